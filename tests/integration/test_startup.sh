#!/bin/sh
# test_startup.sh — hwgwd refuses to start on a wrong configuration, a
# state directory that is not private, or a missing HSM token or key, each
# time with a message naming the problem; it reloads clients on SIGHUP and
# stops cleanly on SIGTERM with a final signed checkpoint.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
gw_setup || exit 1
out="$GW/out"

# refuses: runs hwgwd with a config and expects exit 1 and a message matching $2
refuses() {
	"$HWGWD" --config "$1" >"$out" 2>&1 &
	_p=$!
	( sleep 10; kill -9 $_p 2>/dev/null ) &
	_k=$!
	wait $_p
	_rc=$?
	kill $_k 2>/dev/null
	[ $_rc -eq 1 ] && grep -Eq -- "$2" "$out"
}

variant() { # variant NAME SED-EXPRESSION: a copy of the config, edited
	sed "$2" "$GW/hwgwd.conf" >"$GW/$1.conf"
	echo "$GW/$1.conf"
}

check "--version prints the version" sh -c "'$HWGWD' --version | grep -Eq '^hwgwd [0-9]+\.[0-9]+'"
check "unknown key is named with file and line" \
	refuses "$(variant unknown 's/^clock_skew = 30/clock_skew = 30\nspeed = fast/')" \
	'unknown.conf:[0-9]+: unknown setting \[api\] speed'
check "bad value is named with what was expected" \
	refuses "$(variant badval 's/^clock_skew = 30/clock_skew = forever/')" \
	'\[api\] clock_skew = "forever": expected seconds'
check "missing gateway id refused" refuses "$(variant noid '/^id = /d')" '\[gateway\] id is required'
check "non-loopback HTTP needs allow_remote" \
	refuses "$(variant remote 's/^listen = 127.0.0.1/listen = 0.0.0.0/')" 'is not loopback'
check "missing config file named" refuses "$GW/nonexistent.conf" 'cannot open .*nonexistent.conf'

chmod 0755 "$GW/state"
check "state directory 0755 refused with path and mode" refuses "$GW/hwgwd.conf" "$GW/state.*0755"
chmod 0700 "$GW/state"
check "missing HSM token refused, naming the label" \
	refuses "$(variant notoken 's/^token = hwgw/token = no-such-token/')" 'no-such-token'
check "missing response key refused, naming the label" \
	refuses "$(variant nokey 's/^\[audit\]/response_key = no-such-key\n[audit]/')" 'no-such-key'
chmod 0644 "$GW/hsm/hsm.pin"
check "PIN file readable by others refused" refuses "$GW/hwgwd.conf" 'hsm.pin'
chmod 0600 "$GW/hsm/hsm.pin"
check "no secret in refusal messages" sh -c "! grep -qF \"\$(cat '$GW/hsm/hsm.pin')\" '$out'"

# SIGHUP: a client added while the daemon runs is served without a restart
gw_start || exit 1
me=$(id -u)
gw_client late counter "$me"
# hwgwctl signals only a process whose name is hwgwd; under valgrind it
# is memcheck's, so the test sends the SIGHUP hwgwctl would have sent
[ -z "${HWG_VALGRIND:-}" ] || kill -HUP "$GW_PID"
# reloaded N: both processes' last registry is of N clients (the net
# process gets it from the privileged one just after the latter's reload
# line), within 10 s (slower under valgrind)
reloaded() {
	i=0
	until [ "$(grep -o 'event=clients.reload clients=[0-9]*' "$GW/hwgwd.log" | tail -n 1)" = \
		"event=clients.reload clients=$1" ] &&
		[ "$(grep -o 'event=net.clients clients=[0-9]*' "$GW/hwgwd.log" | tail -n 1)" = \
			"event=net.clients clients=$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
}
check "SIGHUP reload logged, by both processes" reloaded 1
check "client added while running is served" gw_call late gw.info --socket "$GW/hwgw.sock"
check "client list shows it with role and uid" sh -c "'$HWGWCTL' client list --config '$GW/hwgwd.conf' \
	| grep -Eq '^late +counter .* uids=$me\$'"
check "duplicate client refused with a message" sh -c "'$HWGWCTL' client add --config '$GW/hwgwd.conf' \
	--id late --role admin --pubkey '$GW/keys/late.pub' 2>&1 | grep -q 'already registered'"
check "bad role refused" sh -c "'$HWGWCTL' client add --config '$GW/hwgwd.conf' --id x --role boss \
	--pubkey '$GW/keys/late.pub' 2>&1 | grep -q 'one of counter'"
"$HWGWCTL" client remove --config "$GW/hwgwd.conf" --id late >/dev/null
[ -z "${HWG_VALGRIND:-}" ] || kill -HUP "$GW_PID"
reloaded 0
check "removed client gets unknown_client" sh -c "'$HWGWCTL' call --client late --key '$GW/keys/late.key' \
	--gateway-id '$GW_ID' --gateway-pubkey '$GW/hsm/gateway-response.pub.pem' gw.info \
	--socket '$GW/hwgw.sock' 2>&1 | grep -q unknown_client"

# SIGTERM: exit 0, socket and pid file gone, final checkpoint signed
gw_stop
check "SIGTERM exits 0" test "$GW_STATUS" -eq 0
check "socket removed on stop" test ! -e "$GW/hwgw.sock"
check "pid file removed on stop" test ! -e "$GW/state/hwgwd.pid"
check "final checkpoint covers the last record" test \
	"$(sqlite3 "$GW/state/hwgw.db" 'SELECT max(seq) FROM audit')" = \
	"$(sqlite3 "$GW/state/hwgw.db" 'SELECT max(seq) FROM audit_checkpoint')"
check "hwgwctl audit verify passes" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
sh_test_end
