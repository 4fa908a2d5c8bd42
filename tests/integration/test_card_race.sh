#!/bin/sh
# test_card_race.sh — two clients racing for one card never interleave
# APDUs (each operation holds one PC/SC transaction) and both succeed; a
# request waiting longer than [card] timeout_ms gets card_timeout; pcscd
# stopped under the running gateway gives pcsc_unavailable and device
# events, and once pcscd is back the next request works with no gateway
# restart.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
CARD_TIMEOUT_MS=1500
card_start counter:counter issuance:issuance auditor:auditor --insert alice || exit 1
R0='"reader":"hwsim 00 00"'
ARGS="{$R0,\"pin\":\"1234\"}"

# read_in_file CLIENT ARGS_FILE: card.read_info with CLIENT's operator
# session and its own arguments file (card_call's is shared), to run in
# the background
read_in_file() {
	gw_call "$1" card.read_info --socket "$GW/hwgw.sock" --session-file "$GW/sessions/$1" \
		--args-file "$2"
}

# the APDUs of one card.read_info on a card already identified, as hwsim logged them
call_ok counter card.read_info "$ARGS"
sim apdus-clear 0 >/dev/null
call_ok counter card.read_info "$ARGS"
one=$(sim apdus 0 | cut -d' ' -f3-)

race() {
	sim delay 0 20 0 >/dev/null && sim apdus-clear 0 >/dev/null || return 1
	printf '%s' "$ARGS" >"$GW/args.a"
	printf '%s' "$ARGS" >"$GW/args.b"
	read_in_file counter "$GW/args.a" >/dev/null 2>"$GW/err.a" &
	a=$!
	read_in_file issuance "$GW/args.b" >/dev/null 2>"$GW/err.b" &
	b=$!
	wait $a && ra=0 || ra=$?
	wait $b && rb=0 || rb=$?
	sim delay 0 0 0 >/dev/null
	[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ "$(sim apdus 0 | cut -d' ' -f3-)" = "$one $one" ]
}
check "two clients race for one card: both served, their APDUs one whole sequence after the other" race

timeout() {
	# about 13 APDUs at 300 ms: the second request waits past 1.5 s
	sim delay 0 300 0 >/dev/null || return 1
	printf '%s' "$ARGS" >"$GW/args.a"
	read_in_file counter "$GW/args.a" >/dev/null 2>&1 &
	a=$!
	sleep 0.3
	refused card_timeout issuance card.read_info "$ARGS"
	r=$?
	wait $a
	ra=$?
	sim delay 0 0 0 >/dev/null
	[ $r -eq 0 ] && [ $ra -eq 0 ]
}
check "a request that waits past [card] timeout_ms: card_timeout; the holder still succeeds" timeout

# a session whose card failed keeps nothing of it: the next one reads the
# token label and the tries again, though the card never left
garbage() {
	sim fault 0 garbage-at 3 >/dev/null && refused card_error counter card.read_info "$ARGS" &&
		grep -q 'no status word' "$GW/err" && sim apdus-clear 0 >/dev/null &&
		call_ok counter card.read_info "$ARGS" &&
		sim apdus 0 | tr ' ' '\n' | grep -qx 00A4020C020006 &&
		sim apdus 0 | tr ' ' '\n' | grep -qx 00200080
}
check "a card answering one byte: card_error, and the next request is served, the card identified afresh" garbage

silent() {
	sim fault 0 silent-at 2 >/dev/null || return 1
	printf '%s' "$ARGS" >"$GW/args.a"
	read_in_file counter "$GW/args.a" >/dev/null 2>"$GW/err.a" &
	a=$!
	sleep 1
	kill -0 $a 2>/dev/null || return 1 # still waiting on the silent card
	sim remove 0 >/dev/null
	wait $a
	grep -q '^error: card_removed: ' "$GW/err.a" || return 1
	sim fault 0 clear >/dev/null && sim reinsert 0 >/dev/null && card_wait 0 yes &&
		call_ok counter card.read_info "$ARGS"
}
check "a silent card holds the request until it is pulled out: card_removed, then served again" silent

pcscd_stop
down() {
	refused pcsc_unavailable counter card.read_info "$ARGS" &&
		call_ok counter device.list '{}' && has '{"class":"pcscd","id":"pcscd","state":"absent"}'
}
check "pcscd stopped: pcsc_unavailable, device.list shows it absent" down
pcscd_start
back() {
	i=0 # hwsim reconnects to the new pcscd's vpcd on its own; wait for the card to show
	until call_ok counter card.status "{$R0}" && has '"present":true'; do
		i=$((i + 1))
		[ $i -le 50 ] || return 1
		sleep 0.2
	done
	call_ok counter card.read_info "$ARGS" && has '"integrity":"verified"'
}
check "pcscd restarted: the next request succeeds without restarting the gateway" back
events() {
	call_ok auditor audit.query '{"limit":1000}' && has '"op":"device.pcsc.down"' &&
		has '"op":"device.pcsc.up"' && has '"op":"device.reader.added"'
}
check "pcscd going and coming back audited as device events" events
check "the gateway process never restarted" kill -0 "$GW_PID"

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
