#!/bin/sh
# test_soak.sh — issue 5's soak: 10,000 mixed requests (SOAK_REQUESTS),
# after 8,000 of warm-up (SOAK_WARMUP: SQLite's page cache filling), from
# 16 concurrent clients (soak_driver.c: cheap reads over both
# transports, card reads on two readers, audit queries, bad signatures,
# replays, unknown operations, operations the role may not call) while
# faults are injected at random: cards pulled at a random APDU and put
# back, a card answering garbage, the net process SIGKILLed (at most once
# per 12 s, past the restart back-off's window).  The driver asserts that
# the privileged hwgwd's memory does not grow after the warm-up and that
# every answer has its audit record; here, that the gateway never
# restarted, the chain verifies and no PIN try was lost.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
SOAK_REQUESTS=${SOAK_REQUESTS:-10000}
SOAK_WARMUP=${SOAK_WARMUP:-8000}
SOAK_CLIENTS=16
GW_NET_RESTARTS_OK=1 # the soak kills net processes on purpose
CARD_TIMEOUT_MS=10000
clients=
i=0
while [ $i -lt $SOAK_CLIENTS ]; do
	if [ $i -lt $((SOAK_CLIENTS / 2)) ]; then
		role=counter
	elif [ $i -lt $((SOAK_CLIENTS * 3 / 4)) ]; then
		role=auditor
	else
		role=maintenance
	fi
	clients="$clients soak$i:$role"
	i=$((i + 1))
done
# shellcheck disable=SC2086 # one word per client
card_start auditor:auditor $clients --insert alice || exit 1
card_insert 1 bob || exit 1
db() { sqlite3 -cmd '.timeout 5000' "$GW/state/hwgw.db" "$@"; }
MARK=$(db "SELECT coalesce(max(seq), 0) FROM audit")

net_pid() { sed -n 's/.*event=net.ready pid=\([0-9]*\).*/\1/p' "$GW/hwgwd.log" | tail -n 1; }
# one random fault every 0.5 to 2 s until the driver is done
faults() {
	last_kill=$(date +%s)
	n=0
	while [ ! -e "$GW/soak.done" ]; do
		sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN { printf "%.2f", 0.5 + (r % 150) / 100 }')"
		r=$(($(od -An -N2 -tu2 /dev/urandom) % 10))
		slot=$((r % 2))
		if [ $r -lt 5 ]; then
			sim fault $slot remove-at $((r + 1)) >/dev/null
			sleep 0.4
			sim fault $slot clear >/dev/null
			sim reinsert $slot >/dev/null
			echo "remove-at $((r + 1)) slot $slot"
		elif [ $r -lt 8 ]; then
			sim fault $slot garbage-at $((r - 2)) >/dev/null
			echo "garbage-at $((r - 2)) slot $slot"
		elif [ $(($(date +%s) - last_kill)) -ge 12 ]; then
			kill -KILL "$(net_pid)" 2>/dev/null && echo "net process killed"
			last_kill=$(date +%s)
		fi
		n=$((n + 1))
	done
	echo "$n faults"
}
faults >"$GW/faults.log" 2>&1 &
FAULTS_PID=$!
# under ASan or valgrind the RSS is the tool's (quarantine, shadow
# memory): the figures are printed, not judged
SOAK_MEMORY=judge
if [ -n "${HWG_VALGRIND:-}" ] || grep -q '^HWG_SANITIZE:BOOL=ON' "$HWG_BUILD_DIR/CMakeCache.txt"; then
	SOAK_MEMORY=report
fi
t0=$(date +%s)
SOAK_MEMORY=$SOAK_MEMORY GW_ID=$GW_ID GW_PID=$GW_PID SOAK_DB="$GW/state/hwgw.db" "$HWG_BUILD_DIR/tests/soak_driver" \
	"$SOAK_WARMUP" "$SOAK_REQUESTS" "$SOAK_CLIENTS" "$MARK" >"$GW/soak.out" 2>"$GW/soak.err"
SOAK_RC=$?
t1=$(date +%s)
touch "$GW/soak.done"
wait "$FAULTS_PID"
cat "$GW/soak.out"
head -n 20 "$GW/soak.err"
echo "SOAK seconds=$((t1 - t0)) faults: $(sort "$GW/faults.log" | sed 's/ slot [01]//; s/-at [0-9]*/-at/' |
	sort | uniq -c | tr -s ' ' | tr '\n' ';')"
check "the soak: memory flat after the warm-up, every answer audited" test "$SOAK_RC" -eq 0
check "faults were injected" test "$(grep -c 'slot\|killed' "$GW/faults.log")" -gt 0
check "the privileged hwgwd never restarted" kill -0 "$GW_PID"
# the cards back in, both served
for s in 0 1; do
	sim fault $s clear >/dev/null
	sim reinsert $s >/dev/null
done
tries_full() { # SLOT
	i=0
	until call_ok soak0 card.status "{\"reader\":\"hwsim 00 0$1\"}" && has '"present":true'; do
		i=$((i + 1))
		[ $i -le 50 ] || return 1
		sleep 0.1
	done
	has '"tries":{"auth":3,"support":3,"sign":5}'
}
untouched() { tries_full 0 && tries_full 1; }
check "no PIN try was lost" untouched
check "the audit chain verifies" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
