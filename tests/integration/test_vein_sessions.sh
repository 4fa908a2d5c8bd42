#!/bin/sh
# test_vein_sessions.sh — operator sessions' limits through a real hwgwd
# and hwsim's terminal (issue 4): a session idle for [operator]
# session_idle_s is refused and ended "idle"; one in use every half second
# still ends session_max_s after it was opened, "absolute"; operator.logout
# ends one; an operation that needs a session is refused without one and
# accepted with one; a token works only for the client it was opened for.
# Every refusal leaves exactly one audit record with its code.  The rest
# of the operator operations are test_vein_ops.sh's.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/veincheck.sh"

# The sweep that ends sessions runs every second: the absolute limit is
# far enough from the idle one that an idle session is always seen idle,
# and a session used every half second survives a loaded machine's pauses.
OP_SESSION_IDLE_S=3
OP_SESSION_MAX_S=7
vein_test_start admin:admin admin2:admin counter:counter counter2:counter || exit 1
START_MS=$(now_ms)

check "bootstrap: terminal paired, adm.1 enrolled, confirmed and verified" operator_bootstrap
enrol() {
	vein present 0 op.alice 3 >/dev/null && call_ok admin operator.enroll "$(ea op.alice counter)"
}
check "op.alice enrolled with the admin session (used within its 3 s)" enrol

# verify: a new session for counter (sent without the one it may hold);
# VERIFIED_MS and EXPIRES_MS say when and until when
verify() {
	vein present 0 op.alice >/dev/null &&
		_t=$(now_ms) && without_session call_ok counter operator.verify "$(va op.alice)" \
		--session-out "$GW/sessions/counter" &&
		VERIFIED_MS=$_t && EXPIRES_MS=$(sed -n 's/.*"expires_ms":\([0-9]*\).*/\1/p' "$GW/out")
}
limits() {
	verify && has '"idle_s":3' && [ "$EXPIRES_MS" -ge $((VERIFIED_MS + 7000)) ] &&
		[ "$EXPIRES_MS" -le $(($(now_ms) + 7000)) ]
}
check "operator.verify: a session with the configured limits (idle 3 s, ends 7 s after)" limits

check "operator.logout without a session: session_required" \
	refused session_required counter2 operator.logout '{}'
check "a session token from another client: session_required" \
	refused session_required counter2 gw.info '{}' --session-file "$GW/sessions/counter"

# ---------------------------------------------------------------- idle

used() { # used: the session still works; LAST_USE_MS is when it was used
	_t=$(now_ms)
	call_ok counter gw.info '{}' && LAST_USE_MS=$_t
}
sleep 1
check "used 1 s later: accepted" used
idle() {
	session_ended op.alice idle && [ $(($(now_ms) - LAST_USE_MS)) -gt 3000 ] &&
		refused session_required counter gw.info '{}' &&
		grep -q "the operator session was unused for too long: verify again" "$GW/err" &&
		[ "$(db "SELECT count(*) FROM audit WHERE operation = 'operator.session_end' AND
		        operator_id = 'op.alice'")" = 1 ]
}
check "then idle past 3 s: ended by the gateway as idle (one record), refused with session_required saying so" \
	idle

# ---------------------------------------------------------------- absolute

# kept_alive: used every half second or so, accepted until its limit,
# refused after it; never 3 s (idle_s) between two uses, so that what ends
# it is the absolute limit
kept_alive() {
	_ok=0 _gap=0 _last=$VERIFIED_MS
	i=0
	while [ $i -lt 40 ]; do
		i=$((i + 1))
		_t=$(now_ms)
		if [ "$_t" -lt $((EXPIRES_MS - 1000)) ]; then
			used || { db "SELECT time_ms, detail FROM audit WHERE
			              operation = 'operator.session_end'" >>"$GW/trace"; return 1; }
			_ok=$((_ok + 1))
			[ $((LAST_USE_MS - _last)) -le "$_gap" ] || _gap=$((LAST_USE_MS - _last))
			_last=$LAST_USE_MS
		elif [ "$_t" -ge "$EXPIRES_MS" ]; then
			echo "kept alive: $_ok uses, at most $_gap ms apart" >>"$GW/trace"
			refused session_required counter gw.info '{}' && [ $_ok -ge 4 ] && [ $_gap -lt 3000 ] &&
				grep -q "reached its" "$GW/err" # its limit (before the sweep) or time limit (after)
			return
		fi
		sleep 0.5
	done
	return 1
}
renewed_and_kept_alive() {
	verify && kept_alive && session_ended op.alice absolute
}
check "a new session used every half second: accepted until 7 s after it was opened, then refused and ended as absolute" \
	renewed_and_kept_alive

# ---------------------------------------------------------------- logout

logged_out() {
	verify && call_ok counter operator.logout '{}' && has '"operator_id":"op.alice"' &&
		has '"state":"logged_out"'
}
check "operator.logout with a session: logged_out" logged_out
check "the session is gone afterwards: session_required" \
	refused session_required counter gw.info '{}'
check "operator.verify again: accepted" verify

audit_count() {
	[ "$(db "SELECT count(*) FROM audit WHERE transport = 'unix' AND result != 'ok'")" = "$VEIN_REFUSALS" ]
}
check "the audit holds one refusal record per refusal asked for, and no other" audit_count
check "the audit chain verifies" sh -c "'$HWGWCTL' audit verify --config '$GW/hwgwd.conf'"
echo "# $(($(now_ms) - START_MS)) ms after the gateway started"
sh_test_end
