#!/bin/sh
# test_keyholder.sh — the keyholder in a running gateway (gateway/keyholder/):
# hwgw-keyholder is the only process that maps the PKCS#11 module; killed
# while requests are in flight, what needed a signature then is audited
# hsm_unavailable (the answer cannot be signed, so none leaves:
# gateway.response_withheld), the end is audited as
# gateway.keyholder_restart, and a new keyholder serves again without the
# privileged process restarting; the audit chain still verifies.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
gw_setup || exit 1
gw_client counter counter "$(id -u)"
gw_client auditor auditor "$(id -u)"
gw_start || exit 1

kh_pid() { pgrep -P "$GW_PID" -x hwgw-keyholder | head -n 1; }
n_audit() { # n_audit OPERATION RESULT
	sqlite3 "$GW/state/hwgw.db" "SELECT count(*) FROM audit WHERE operation = '$1' AND result = '$2'"
}
wait_keyholder_other_than() { # until a keyholder other than $1 runs
	i=0
	while { [ -z "$(kh_pid)" ] || [ "$(kh_pid)" = "$1" ]; } && [ $i -lt 200 ]; do
		i=$((i + 1))
		sleep 0.05
	done
}

k1=$(kh_pid)
check "the keyholder is the gateway's child" test -n "$k1"
check "the keyholder is seccomp-filtered" grep -q '^Seccomp:[[:space:]]*2' "/proc/$k1/status"
check "only the keyholder maps the PKCS#11 module" \
	sh -c "grep -q libsofthsm2 /proc/$k1/maps && ! grep -q libsofthsm2 /proc/$GW_PID/maps"
check "served before" gw_call counter gw.info --socket "$GW/hwgw.sock"

# Load from two clients' loops while the keyholder is stopped, then killed:
# the requests that wait for it at that moment find it gone.
withheld0=$(n_audit gateway.response_withheld hsm_unavailable)
kill -STOP "$k1"
: >"$GW/load.out"
pids=
for n in 1 2 3 4; do
	(gw_call counter gw.info --socket "$GW/hwgw.sock" >/dev/null 2>&1; echo "rc=$?" >>"$GW/load.out") &
	pids="$pids $!"
done
sleep 1
kill -KILL "$k1"
for p in $pids; do wait "$p"; done
check "the stopped keyholder's requests got no answer (none could be signed)" \
	sh -c "test \$(grep -c 'rc=0' '$GW/load.out') -eq 0"
wait_keyholder_other_than "$k1"
k2=$(kh_pid)
check "a new keyholder" test -n "$k2" -a "$k2" != "$k1"
check "the privileged process did not restart" kill -0 "$GW_PID"
check "each of them audited: hsm_unavailable, response withheld" \
	test "$(($(n_audit gateway.response_withheld hsm_unavailable) - withheld0))" -eq 4
check "the keyholder's end audited with its signal" sh -c "sqlite3 '$GW/state/hwgw.db' \
	\"SELECT detail FROM audit WHERE operation = 'gateway.keyholder_restart'\" |
	grep -q 'pid=$k1 signal=9'"
check "served again after the restart" gw_call counter gw.info --socket "$GW/hwgw.sock"
check "served again over HTTP" gw_call counter gw.info --url "$GW_URL"
check "the new keyholder is filtered too" grep -q '^Seccomp:[[:space:]]*2' "/proc/$k2/status"
check "audit.verify: the chain and its checkpoints verify" \
	gw_call auditor audit.verify --socket "$GW/hwgw.sock"
gw_stop
check "the keyholder stopped with the gateway" sh -c "! kill -0 $k2 2>/dev/null"
check "hwgwctl audit verify after the stop" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
sh_test_end
