#!/bin/sh
# test_fault_vein.sh — issue 5's fault matrix for the palm-vein and
# operator operations through a real hwgwd, libusb and hwsim's terminal:
# the state directory's disk full (verify, enroll, logout, revoke, pair),
# the HSM token gone while a capture waits, hwgwd SIGKILLed while a
# capture waits for a palm, at the audit step after it (the store locked
# by another connection), at the one transaction of confirm, logout,
# revoke and at pair's nonce step; the terminal in hardware fault during
# pair, and unplugged at each of an enrolment's three captures.  What the gateway promises
# (gateway/README.md, api.cddl): a device operation's nonce is committed
# before the device is touched and its audit record afterwards, so a
# request killed in between leaves its nonce spent and no audit record; a
# record that cannot be made durable answers audit_unavailable with nothing
# done; a response that cannot be signed is not sent at all.  After each
# fault the audit chain verifies and nothing is half-written (no operator,
# no session).
# After a SIGKILL mid-capture the restarted gateway finds the terminal
# still capturing for the dead one; it cancels that capture when it
# attaches the terminal, so the next request is served (asserted below).
# A token that goes away and comes back is found again: hwg_p11
# re-initialises the module (SoftHSM2 lists its tokens at C_Initialize
# only) when it is the module's only user (asserted below).
# The state directory is a small tmpfs in a private mount namespace: the
# test needs root for it and is skipped (77) without.
set -u
if [ -z "${HWG_IN_NS:-}" ]; then
	if unshare --mount true 2>/dev/null; then
		HWG_IN_NS=1 exec unshare --mount sh "$0" "$@"
	fi
	echo "cannot make a private mount namespace (needs root): skipped"
	exit 77
fi
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/veincheck.sh"
. "$HWG_SOURCE_DIR/tests/lib/faultenv.sh"

fault_small_state 4m
VEIN_CAPTURE_TIMEOUT_MS=3000
vein_test_start admin:admin admin2:admin counter:counter || exit 1
START_MS=$(now_ms)

# the store is on the tmpfs, not where veincheck.sh looks
# (db, audit_seq, audit_ok, n_nonces, n_records: faultenv.sh, on the tmpfs store)
n_sessions() { db "SELECT count(*) FROM operator_sessions"; }
n_operator() { db "SELECT count(*) FROM operators WHERE id = '$1'"; }


# bg CLIENT OP ARGS: a request left running; its answer in bg.out/bg.err
bg() {
	BG_MARK=$(audit_seq)
	BG_T0=$(date +%s%3N)
	BG_NONCES=$(n_nonces "$1" "$BG_T0")
	vcall "$@" >"$GW/bg.out" 2>"$GW/bg.err" &
	BG_PID=$!
}
bg_end() {
	wait "$BG_PID"
	BG_RC=$?
	echo "$(now_ms) bg: rc=$BG_RC $(head -c 300 "$GW/bg.err")" >>"$GW/trace"
}
# the killed request: its client told nothing, its nonce spent, no audit record
killed_unanswered() { # CLIENT OP
	[ "$BG_RC" -ne 0 ] && ! grep -q '^error: [a-z_]*: ' "$GW/bg.err" &&
		[ "$(n_nonces "$1" "$BG_T0")" -eq $((BG_NONCES + 1)) ] && [ "$(n_records "$BG_MARK" "$1" "$2")" -eq 0 ]
}

enrol() { # enrol OPERATOR ROLE: with its own palm, by the admin session
	vein present 0 "$1" 3 >/dev/null && call_ok admin operator.enroll "$(ea "$1" "$2")" &&
		has "\"operator_id\":\"$1\"" && has '"state":"active"'
}
verify() { # verify CLIENT OPERATOR: a session for CLIENT
	vein present 0 "$2" >/dev/null &&
		call_ok "$1" operator.verify "$(va "$2")" --session-out "$GW/sessions/$1" &&
		has "\"operator_id\":\"$2\"" && [ -s "$GW/sessions/$1" ]
}
# operator.confirm exists for the bootstrap only (the first admin, pending
# until a second admin client confirms): its store step is faulted there.
boot_pending() {
	_fp=$(vein fingerprint 0) &&
		call_ok admin terminal.pair "{\"terminal\":\"$T0\",\"fingerprint\":\"$_fp\"}" &&
		vein present 0 adm.1 3 >/dev/null && call_ok admin operator.enroll "$(ea adm.1 admin)" &&
		has '"state":"pending"'
}
check "bootstrap: terminal paired, the first admin enrolled: pending" boot_pending
# killed_store_op CLIENT OP ARGS: hwgwd SIGKILLed while OP's one
# transaction waits (the store locked by faultenv.sh's lock_store): no
# answer, its nonce not spent, no record
killed_store_op() {
	lock_store && bg "$@" && sleep 0.5 && bg_running || return 1
	kill_gw
	unlock_store
	bg_end
	[ "$BG_RC" -ne 0 ] && ! grep -q '^error: [a-z_]*: ' "$GW/bg.err" &&
		[ "$(n_nonces "$1" "$BG_T0")" -eq "$BG_NONCES" ] && [ "$(n_records "$BG_MARK" "$1" "$2")" -eq 0 ]
}
state_of() { db "SELECT state FROM operators WHERE id = '$1'"; }
check "operator.confirm, hwgwd SIGKILLed at its transaction: no answer, nonce unspent, no record" \
	killed_store_op admin2 operator.confirm '{"operator_id":"adm.1"}'
check "  adm.1 still pending" test "$(state_of adm.1)" = pending
confirm_ok() {
	gw_start && call_ok admin2 operator.confirm '{"operator_id":"adm.1"}' && has '"state":"active"'
}
check "  restarted: the same confirmation is served" confirm_ok
check "  adm.1 verifies: the admin session" verify admin adm.1
check "enrol op.alice (counter)" enrol op.alice counter
check "op.alice verifies" verify counter op.alice

# ---------------------------------------------------------------- disk full

dd if=/dev/zero of="$MNT/filler" bs=4k >/dev/null 2>&1
# use up the room SQLite's files still have
burn() {
	i=0
	while gw_call counter gw.info --socket "$GW/hwgw.sock" >/dev/null 2>"$GW/err"; do
		i=$((i + 1))
		[ $i -le 300 ] || return 1
	done
	echo "gw.info served $i times on the full disk: $(cat "$GW/err")" >>"$GW/trace"
	grep -q '^error: audit_unavailable: ' "$GW/err"
}
check "disk full: gw.info refused with audit_unavailable" burn
full_verify() {
	SESS0=$(n_sessions)
	_mark=$(audit_seq)
	rm -f "$GW/sessions/counter"
	vein present 0 op.alice >/dev/null
	vcall counter operator.verify "$(va op.alice)" --session-out "$GW/sessions/counter" \
		>"$GW/out.json" 2>"$GW/err"
	_rc=$?
	echo "disk full, verify: rc=$_rc $(cat "$GW/err") queued=$(vein queued 0)" >>"$GW/trace"
	vein clear 0 >/dev/null
	[ $_rc -ne 0 ] && grep -q '^error: audit_unavailable: ' "$GW/err" && [ ! -e "$GW/sessions/counter" ] &&
		[ "$(n_sessions)" -eq "$SESS0" ] && [ "$(audit_seq)" -eq "$_mark" ]
}
check "disk full: operator.verify refused with audit_unavailable, no session, no record" full_verify
full_enrol() {
	_mark=$(audit_seq)
	vein present 0 op.d1 3 >/dev/null
	vcall admin operator.enroll "$(ea op.d1 counter)" >"$GW/out.json" 2>"$GW/err"
	_rc=$?
	echo "disk full, enrol: rc=$_rc $(cat "$GW/err") queued=$(vein queued 0)" >>"$GW/trace"
	vein clear 0 >/dev/null
	[ $_rc -ne 0 ] && grep -q '^error: audit_unavailable: ' "$GW/err" &&
		[ "$(n_operator op.d1)" -eq 0 ] && [ "$(audit_seq)" -eq "$_mark" ]
}
check "disk full: operator.enroll refused with audit_unavailable, no operator, no record" full_enrol
rm -f "$MNT/filler"
check "room again: op.alice verifies" verify counter op.alice
check "room again: op.d1 enrols" enrol op.d1 counter
check "room again: the audit chain verifies" audit_ok

# ---------------------------------------------------------------- HSM token gone

TOKENS="$GW/hsm/tokens"
# api.cddl: a response that cannot be signed (HSM gone) is not sent; the
# Unix socket closes the connection.  The refusal is audited, and so is
# the answer withheld (gateway.response_withheld).
unsigned() {
	[ "$BG_RC" -ne 0 ] && grep -q 'no response: the gateway closed the connection' "$GW/bg.err" &&
		[ "$(db "SELECT count(*) FROM audit WHERE seq > $BG_MARK AND
		     operation = 'gateway.response_withheld' AND result = 'hsm_unavailable'")" -eq 1 ]
}
hsm_gone_verify() {
	SESS0=$(n_sessions)
	rm -f "$GW/sessions/counter"
	bg counter operator.verify "$(va op.alice)" --session-out "$GW/sessions/counter"
	wait_capturing 0 && mv "$TOKENS" "$TOKENS.away" && vein present 0 op.alice >/dev/null
	_r=$?
	bg_end
	[ $_r -eq 0 ] && unsigned && audited_once "$BG_MARK" hsm_unavailable counter operator.verify
}
check "operator.verify, the HSM token moved away during the capture: hsm_unavailable audited, no response" \
	hsm_gone_verify
check "  no session" test "$(n_sessions)" -eq "$SESS0"
hsm_gone_enrol() {
	bg admin operator.enroll "$(ea op.h1 counter)"
	wait_capturing 0 && vein present 0 op.h1 3 >/dev/null
	_r=$?
	bg_end
	[ $_r -eq 0 ] && unsigned && audited_once "$BG_MARK" hsm_unavailable admin operator.enroll
}
check "operator.enroll with the HSM token away: hsm_unavailable audited, no response" hsm_gone_enrol
check "  no operator op.h1" test "$(n_operator op.h1)" -eq 0
vein clear 0 >/dev/null
mv "$TOKENS.away" "$TOKENS"
rm -f "$GW/sessions/counter"
check "the token back: the gateway finds it again and op.alice verifies" verify counter op.alice
check "  the audit chain verifies" audit_ok

# ---------------------------------------------------------------- SIGKILL

killed_enrol() {
	bg admin operator.enroll "$(ea op.k1 counter)"
	wait_capturing 0 && kill_gw
	_r=$?
	bg_end
	[ $_r -eq 0 ] && killed_unanswered admin operator.enroll
}
check "operator.enroll, hwgwd SIGKILLed while the capture waits: no answer, nonce spent, no audit record" \
	killed_enrol
check "  the audit chain verifies" audit_ok
check "  no operator op.k1 was written" test "$(n_operator op.k1)" -eq 0
attached_idle() {
	gw_start && vein list | grep -q '0=[^ ]*:plugged:idle'
}
check "  restarted: the terminal, left capturing by the killed gateway, is attached and idle" \
	attached_idle
check "  the same enrolment is served by the restarted gateway" enrol op.k1 counter

killed_verify() {
	rm -f "$GW/sessions/counter"
	bg counter operator.verify "$(va op.alice)" --session-out "$GW/sessions/counter"
	wait_capturing 0 && kill_gw
	_r=$?
	bg_end
	[ $_r -eq 0 ] && killed_unanswered counter operator.verify
}
sessions_before=$(n_sessions)
check "operator.verify, hwgwd SIGKILLed while the capture waits: no answer, nonce spent, no audit record" \
	killed_verify
no_session() {
	[ "$(n_sessions)" -eq "$sessions_before" ] && [ ! -s "$GW/sessions/counter" ]
}
check "  no session opened, none written to --session-out" no_session
check "  the audit chain verifies" audit_ok
check "  restarted" gw_start
check "  op.alice verifies on the restarted gateway" verify counter op.alice
# ---------------------------------------------------------------- store steps
# The store held by another connection (faultenv.sh's lock_store) at the
# step the gateway is about to write, then SIGKILL: at the audit step of a
# device operation (the capture done), and at the one transaction of the
# store operations (logout, revoke, confirm: nonce, change and record
# together, so nothing of them may remain).

restart_and() { gw_start && "$@"; }

killed_verify_at_audit() {
	SESS0=$(n_sessions)
	rm -f "$GW/sessions/counter"
	bg counter operator.verify "$(va op.alice)" --session-out "$GW/sessions/counter"
	wait_capturing 0 && lock_store || return 1
	vein present 0 op.alice >/dev/null
	sleep 0.5 # the capture answered: the gateway waits on the store
	bg_running || { unlock_store; echo "answered before the kill: $(cat "$GW/bg.err")"; return 1; }
	kill_gw
	unlock_store
	bg_end
	killed_unanswered counter operator.verify && [ "$(n_sessions)" -eq "$SESS0" ] &&
		[ ! -s "$GW/sessions/counter" ]
}
check "operator.verify, hwgwd SIGKILLed at the audit step: no answer, nonce spent, no record, no session" \
	killed_verify_at_audit
check "  restarted, op.alice verifies" restart_and verify counter op.alice

killed_enrol_at_audit() {
	bg admin operator.enroll "$(ea op.k2 counter)"
	wait_capturing 0 && lock_store || return 1
	vein present 0 op.k2 3 >/dev/null
	i=0 # three captures, then the store
	while [ "$(vein queued 0)" != 0 ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	sleep 0.5
	bg_running || { unlock_store; echo "answered before the kill: $(cat "$GW/bg.err")"; return 1; }
	kill_gw
	unlock_store
	bg_end
	killed_unanswered admin operator.enroll && [ "$(n_operator op.k2)" -eq 0 ]
}
check "operator.enroll, hwgwd SIGKILLed at the audit step: no answer, nonce spent, no record, no operator" \
	killed_enrol_at_audit
check "  restarted, the same enrolment is served" restart_and enrol op.k2 counter


check "op.k2 verifies on the counter client" verify counter op.k2
SESS0=$(n_sessions)
check "operator.logout, hwgwd SIGKILLed at its transaction: no answer, nonce unspent, no record" \
	killed_store_op counter operator.logout '{}'
check "  the session is still there" test "$(n_sessions)" -eq "$SESS0"
logout_ok() {
	gw_start && call_ok counter operator.logout '{}' && [ "$(n_sessions)" -eq $((SESS0 - 1)) ] &&
		rm -f "$GW/sessions/counter"
}
check "  restarted: the same logout is served and ends it" logout_ok

check "operator.revoke, hwgwd SIGKILLed at its transaction: no answer, nonce unspent, no record" \
	killed_store_op admin operator.revoke '{"operator_id":"op.k2"}'
check "  op.k2 still active" test "$(state_of op.k2)" = active
revoke_ok() {
	gw_start && call_ok admin operator.revoke '{"operator_id":"op.k2"}' && has '"state":"revoked"'
}
check "  restarted: the same revocation is served" revoke_ok

# disk full at the one transaction of a store operation: nothing done
full_store_op() { # CLIENT OP ARGS
	dd if=/dev/zero of="$MNT/filler" bs=4k >/dev/null 2>&1
	burn || { rm -f "$MNT/filler"; return 1; }
	_mark=$(audit_seq) _t0=$(date +%s%3N)
	vcall "$@" >"$GW/out.json" 2>"$GW/err"
	_rc=$?
	rm -f "$MNT/filler"
	[ $_rc -ne 0 ] && grep -q '^error: audit_unavailable: ' "$GW/err" &&
		[ "$(audit_seq)" -eq "$_mark" ] && [ "$(n_nonces "$1" "$_t0")" -eq 0 ]
}
check "op.alice verifies again" verify counter op.alice
SESS0=$(n_sessions)
check "operator.logout with the disk full: audit_unavailable, nothing done" \
	full_store_op counter operator.logout '{}'
check "  the session is still there" test "$(n_sessions)" -eq "$SESS0"
check "operator.revoke with the disk full: audit_unavailable, nothing done" \
	full_store_op admin operator.revoke '{"operator_id":"op.alice"}'
check "  op.alice still active" test "$(state_of op.alice)" = active
logged_out() { call_ok counter operator.logout '{}' && rm -f "$GW/sessions/counter"; }
check "room again: op.alice logs out" logged_out
check "  the audit chain verifies" audit_ok

# ---------------------------------------------------------------- terminal.pair
# pairing again with the same key is served (an admin re-reading the
# fingerprint); each fault leaves the recorded pairing as it was
FP0=$(vein fingerprint 0)
PAIR_ARGS="{\"terminal\":\"$T0\",\"fingerprint\":\"$FP0\"}"
paired_ms() { db "SELECT paired_ms FROM terminals WHERE serial = '$T0'"; }
check "terminal.pair again, the same key: served" call_ok admin terminal.pair "$PAIR_ARGS"
P0=$(paired_ms)
check "terminal.pair, hwgwd SIGKILLed at the nonce step: no answer, nonce unspent, no record" \
	killed_store_op admin terminal.pair "$PAIR_ARGS"
check "  the pairing unchanged" test "$(paired_ms)" = "$P0"
check "  restarted: served" restart_and call_ok admin terminal.pair "$PAIR_ARGS"
P0=$(paired_ms)
check "terminal.pair with the disk full: audit_unavailable, nothing done" \
	full_store_op admin terminal.pair "$PAIR_ARGS"
check "  the pairing unchanged" test "$(paired_ms)" = "$P0"
faulted_pair() {
	vein fault 0 on >/dev/null && refused terminal_error admin terminal.pair "$PAIR_ARGS"
	_r=$?
	vein fault 0 off >/dev/null
	return $_r
}
check "terminal.pair, the terminal in hardware fault: terminal_error, audited once" faulted_pair
check "  the pairing unchanged" test "$(paired_ms)" = "$P0"
check "the fault over: op.alice verifies" verify counter op.alice

# ---------------------------------------------------------------- device cut
# the terminal unplugged at each of an enrolment's three captures
unplugged_at() { # K: the palm given K-1 times, the terminal pulled at capture K
	bg admin operator.enroll "$(ea "op.u$1" counter)"
	if [ "$1" -gt 1 ]; then
		vein present 0 "op.u$1" $(($1 - 1)) >/dev/null
	fi
	i=0
	until [ "$(vein queued 0)" = 0 ] && vein list | grep -q '0=[^ ]*:capturing'; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.05
	done
	vein unplug 0 >/dev/null
	bg_end
	_ok=0
	grep -q '^error: terminal_removed: ' "$GW/bg.err" &&
		[ "$(n_records "$BG_MARK" admin operator.enroll terminal_removed)" -eq 1 ] &&
		[ "$(n_operator "op.u$1")" -eq 0 ] || _ok=1
	vein plug 0 >/dev/null && wait_terminal 0 plugged:idle && [ $_ok -eq 0 ] && enrol "op.u$1" counter
}
for k in 1 2 3; do
	check "operator.enroll, the terminal unplugged at capture $k of 3: terminal_removed, no operator; enrols once back" \
		unplugged_at $k
done
check "  the audit chain verifies" audit_ok

echo "# $(($(now_ms) - START_MS)) ms after the gateway started"
gw_stop
umount "$MNT" 2>/dev/null
rmdir "$MNT" 2>/dev/null
sh_test_end
