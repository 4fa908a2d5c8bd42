#!/bin/sh
# test_socket_activation.sh — hwgwd started the way hwgwd.socket starts
# it: systemd-socket-activate binds the Unix socket, waits for the first
# connection and execs hwgwd with the socket as descriptor 3 (LISTEN_PID,
# LISTEN_FDS).  hwgwd serves that connection (peer uid checked as on its
# own socket), says where the socket came from, and leaves the file to its
# owner at stop; a socket bound elsewhere than [unix] socket, or with
# world bits, stops the start with a message naming it.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "SKIP: systemd-socket-activate not installed (Debian package systemd, scripts/setup)"
	exit 77
fi
gw_setup || exit 1
me=$(id -u)
gw_client desk counter "$me"
gw_client other counter "$((me + 1))"
sock="$GW/hwgw.sock"
log="$GW/activate.log"

# activate CONFIG MODE: hwgwd behind the activator on $sock, whose file
# gets MODE as SocketMode= would give it (the activator has no such
# option); ACT_PID (the activator execs hwgwd, so it becomes hwgwd's pid)
activate() {
	rm -f "$sock"
	: >"$log"
	# a clean environment, as systemd gives; SOFTHSM2_CONF as the unit's Environment=
	systemd-socket-activate -l "$sock" -E SOFTHSM2_CONF "$HWGWD" --foreground --config "$1" \
		2>"$log" &
	ACT_PID=$!
	( sleep 20; kill -9 $ACT_PID 2>/dev/null ) >/dev/null 2>&1 &
	ACT_WATCHDOG=$!
	_i=0
	while [ ! -S "$sock" ] && [ $_i -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.05
	done
	chmod "$2" "$sock"
}

# finish: SIGTERM (when asked) and wait; ACT_STATUS
finish() {
	[ "${1:-}" = term ] && kill -TERM "$ACT_PID" 2>/dev/null
	wait "$ACT_PID"
	ACT_STATUS=$?
	kill "$ACT_WATCHDOG" 2>/dev/null
}

# refused CONFIG MODE PATTERN: the first connection makes the activator
# exec hwgwd, which exits 1 with a message matching PATTERN
refused() {
	activate "$1" "$2"
	gw_call desk gw.info --socket "$sock" >/dev/null 2>&1
	finish
	[ "$ACT_STATUS" -eq 1 ] && grep -Eq -- "$3" "$log"
}

variant() { # variant NAME SED-EXPRESSION: a copy of the config, edited
	sed "$2" "$GW/hwgwd.conf" >"$GW/$1.conf"
	echo "$GW/$1.conf"
}

activate "$GW/hwgwd.conf" 0660
check "the activator made the socket, hwgwd not yet started" \
	sh -c "test -S '$sock' && ! grep -q event=ready '$log'"
check "first connection served by the activated hwgwd" gw_call desk gw.info --socket "$sock"
check "hwgwd says the socket came from systemd" contains "$log" \
	"event=unix.listen path=$sock from=systemd"
check "peer uid still checked on a passed socket" sh -c "'$HWGWCTL' call --client other \
	--key '$GW/keys/other.key' --gateway-id '$GW_ID' \
	--gateway-pubkey '$GW/hsm/gateway-response.pub.pem' gw.info --socket '$sock' 2>&1 \
	| grep -q uid_not_allowed"
check "socket mode left as systemd made it (not [unix] mode 0600)" \
	test "$(stat -c %a "$sock")" = 660
finish term
check "SIGTERM exits 0" test "$ACT_STATUS" -eq 0
check "the passed socket's file is left to its owner" test -S "$sock"
check "pid file removed on stop" test ! -e "$GW/state/hwgwd.pid"

check "socket bound elsewhere than [unix] socket refused, naming both" \
	refused "$(variant other 's|^socket = .*|socket = '"$GW"'/other.sock|')" 0660 \
	"passed the socket $sock but \[unix\] socket is $GW/other.sock"
check "passed socket with [unix] socket empty refused" \
	refused "$(variant empty 's|^socket = .*|socket =|')" 0660 '\[unix\] socket is empty'
check "passed socket with world bits refused, naming the mode" \
	refused "$GW/hwgwd.conf" 0666 "$sock from systemd has mode 0666; world bits are refused"
check "hwgwctl audit verify passes" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
sh_test_end
