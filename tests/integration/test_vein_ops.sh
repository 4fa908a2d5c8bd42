#!/bin/sh
# test_vein_ops.sh — operators through a real hwgwd, libusb and hwsim's
# terminals on umockdev's simulated bus (issue 4, "Done when"): the
# bootstrap of the first admin, enrolment and its refusals, verification
# of the same person and refusal of another or of an unknown id, every
# way a capture can fail (timeout, cancel from a call and from the
# terminal, low quality, a photo, unplugging mid-capture), every way a
# capture can be forged (unpaired or re-keyed terminal, replay, injection,
# a swapped device key) and a template swapped in the store, an operator
# past valid_until, lockout after failures, revocation, operator.list,
# roles, and an operation refused without a session and accepted with
# one.  Every refusal leaves exactly one audit record with its code.
# Sessions' idle and absolute limits are test_vein_sessions.sh's.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/veincheck.sh"

# Each capture that is meant to time out costs this long; a capture that is
# cancelled or unplugged must still be waiting when two calls (one under a
# loaded CI machine's pauses) have been made.
VEIN_CAPTURE_TIMEOUT_MS=3000
OP_MAX_FAILURES=3
OP_LOCKOUT_S=3
HWSIM_EXTRA_ARGS="--vein PV-SIM-0002" # never paired, until the test pairs it
T1=PV-SIM-0002
# whose session each client holds: counter op.alice's, counter2 op.bob's,
# desk op.exp's, clerk op.carol's, admin adm.1's
vein_test_start admin:admin admin2:admin counter:counter counter2:counter desk:counter \
	clerk:counter || exit 1
START_MS=$(now_ms)

# ---------------------------------------------------------------- bootstrap

FP0=$(vein fingerprint 0)
FP1=$(vein fingerprint 1)
check "terminal.pair with another terminal's fingerprint: device_signature" \
	refused device_signature admin terminal.pair "{\"terminal\":\"$T0\",\"fingerprint\":\"$FP1\"}"
unpaired_listed() {
	call_ok counter device.list '{}' &&
		has "{\"class\":\"terminal\",\"id\":\"$T0\",\"state\":\"ready\",\"paired\":false" &&
		has "{\"class\":\"terminal\",\"id\":\"$T1\",\"state\":\"ready\",\"paired\":false"
}
check "device.list: both terminals ready, neither paired (the wrong fingerprint recorded nothing)" \
	unpaired_listed
check "terminal.pair of a terminal not connected: no_terminal" \
	refused no_terminal admin terminal.pair "{\"terminal\":\"PV-NONE\",\"fingerprint\":\"$FP0\"}"
paired() {
	call_ok admin terminal.pair "{\"terminal\":\"$T0\",\"fingerprint\":\"$(echo "$FP0" | tr a-f A-F)\"}" &&
		has "\"fingerprint\":\"$FP0\"" && has '"replaced":false'
}
check "terminal.pair in bootstrap mode, no session, fingerprint in upper case: paired" paired

not_captured() { # not_captured N: the N presentations queued are still there
	[ "$(vein queued 0)" = "$1" ] && vein clear 0 >/dev/null
}
boot_counter() {
	vein present 0 op.first 3 >/dev/null &&
		refused session_required admin operator.enroll "$(ea op.first counter)" &&
		err_has "must be an admin" && not_captured 3
}
check "bootstrap: the first operator enrolled must be an admin (session_required, no capture)" \
	boot_counter
enrol_admin() {
	vein present 0 adm.1 3 >/dev/null && call_ok admin operator.enroll "$(ea adm.1 admin)" &&
		has '"operator_id":"adm.1"' && has '"role":"admin"' && has '"state":"pending"'
}
check "bootstrap: an admin client enrols the first admin, who is pending" enrol_admin
pending_verify() {
	vein present 0 adm.1 >/dev/null && refused operator_expired admin operator.verify "$(va adm.1)" &&
		err_has "pending" && rec_operator adm.1 && not_captured 1
}
check "a pending admin cannot verify: operator_expired, audited with its id, no capture" pending_verify
check "the enrolling client cannot confirm its own admin: forbidden" \
	refused forbidden admin operator.confirm '{"operator_id":"adm.1"}'
confirmed() {
	call_ok admin2 operator.confirm '{"operator_id":"adm.1"}' && has '"state":"active"'
}
check "a second admin client confirms it: active" confirmed
check "bootstrap over: operator.enroll without an admin session is session_required" \
	refused session_required admin operator.enroll "$(ea op.first counter)"
check "bootstrap over: terminal.pair without an admin session is session_required" \
	refused session_required admin terminal.pair "{\"terminal\":\"$T1\",\"fingerprint\":\"$FP1\"}"

# session_file CLIENT: written by --session-out, 0600, 32 bytes as hex;
# the printed result has no token
session_file() {
	_f="$GW/sessions/$1"
	[ "$(stat -c %a "$_f")" = 600 ] && grep -Eqx '[0-9a-f]{64}' "$_f" &&
		has "\"session_file\":\"$_f\"" && ! has '"session":' && ! has "$(cat "$_f")"
}
admin_verify() {
	vein present 0 adm.1 >/dev/null &&
		call_ok admin operator.verify "$(va adm.1)" --session-out "$GW/sessions/admin" &&
		has '"operator_id":"adm.1"' && has '"role":"admin"' && session_file admin
}
check "the admin verifies: a session of 32 bytes written 0600 by --session-out, not printed" \
	admin_verify

# ---------------------------------------------------------------- enrol, verify

enrol() { # enrol OPERATOR ROLE [VALID_UNTIL]: with its own palm, by the admin session
	vein present 0 "$1" 3 >/dev/null && call_ok admin operator.enroll "$(ea "$@")" &&
		has "\"operator_id\":\"$1\"" && has "\"role\":\"$2\"" && has '"state":"active"'
}
check "enrol op.alice (counter) with the admin session: active" enrol op.alice counter
check "enrol op.bob (counter)" enrol op.bob counter
check "enrol op.carol (counter)" enrol op.carol counter
verify() { # verify CLIENT OPERATOR [PALM [TERMINAL]]: a session for CLIENT
	vein present "$([ "${4:-$T0}" = "$T0" ] && echo 0 || echo 1)" "${3:-$2}" >/dev/null &&
		call_ok "$1" operator.verify "$(va "$2" "${4:-$T0}")" --session-out "$GW/sessions/$1" &&
		has "\"operator_id\":\"$2\"" && session_file "$1"
}
alice_verified() {
	_mark=$(audit_seq)
	verify counter op.alice && has '"role":"counter"' && has '"idle_s":600' &&
		audited_once "$_mark" ok counter operator.verify && rec_operator op.alice
}
check "verify op.alice with her palm: a counter session for 600 s idle, audited with her id" \
	alice_verified
TOKEN_ALICE=$(cat "$GW/sessions/counter")
another() {
	vein present 0 op.bob >/dev/null &&
		refused no_match counter operator.verify "$(va op.alice)" --session-out "$GW/no.sess" &&
		rec_operator op.alice && grep -q 'failures=1/3' "$GW/rec" && [ ! -e "$GW/no.sess" ]
}
check "verify op.alice with op.bob's palm: no_match, counted (1 of 3), no session file" another
ghost() {
	vein present 0 op.alice >/dev/null &&
		refused unknown_operator counter operator.verify "$(va ghost.7)" &&
		rec_operator ghost.7 && not_captured 1 &&
		"$HWGWCTL" audit query --config "$GW/hwgwd.conf" --operator ghost.7 >"$GW/q" &&
		[ "$(wc -l <"$GW/q")" -eq 1 ] &&
		grep -q 'client=counter .* op=operator.verify operator=ghost.7 .*result=unknown_operator$' "$GW/q"
}
check "an unknown operator id: unknown_operator before any capture; the audit names the id claimed" \
	ghost

# ---------------------------------------------------------------- captures that fail

list_admin() {
	call_ok admin operator.list '{}'
}
timed_out() {
	_t=$(now_ms)
	refused capture_timeout counter operator.verify "$(va op.alice)" &&
		_ms=$(($(now_ms) - _t)) && [ "$_ms" -ge 3000 ] && [ "$_ms" -lt 5000 ] && rec_operator op.alice &&
		list_admin && [ "$(failures_of op.alice)" = 1 ]
}
check "no palm within capture_timeout_ms (3 s): capture_timeout after 3 s, not counted as a failure" \
	timed_out

# (each waiting verification is waited for, whatever happened meanwhile)
cancel_call() {
	bg_verify counter op.alice
	wait_capturing 0 && refused terminal_busy counter2 operator.verify "$(va op.bob)" &&
		call_ok admin terminal.cancel "{\"terminal\":\"$T0\"}" && has '"cancelled":true'
	_r=$?
	bg_refused capture_cancelled && [ $_r -eq 0 ]
}
check "terminal.cancel from another client stops a waiting verify: capture_cancelled (and busy meanwhile)" \
	cancel_call
nothing_to_cancel() {
	call_ok admin terminal.cancel "{\"terminal\":\"$T0\"}" && has '"cancelled":false'
}
check "terminal.cancel with nothing capturing: cancelled false" nothing_to_cancel
cancel_button() {
	bg_verify counter op.alice
	wait_capturing 0 && vein cancel 0 >/dev/null
	_r=$?
	bg_refused capture_cancelled && [ $_r -eq 0 ]
}
check "the terminal's own cancel button: capture_cancelled" cancel_button
low() {
	vein low 0 op.alice >/dev/null && refused capture_quality counter operator.verify "$(va op.alice)" &&
		err_has "present the palm again" && list_admin && [ "$(failures_of op.alice)" = 1 ]
}
check "a low-quality capture: capture_quality, not counted" low
photo() {
	vein photo 0 op.alice >/dev/null &&
		refused liveness_failed counter operator.verify "$(va op.alice)" &&
		grep -q 'failures=2/3' "$GW/rec" && list_admin && [ "$(failures_of op.alice)" = 2 ]
}
check "a photo of her palm: liveness_failed, counted as a failure (2 of 3)" photo
reset() {
	verify counter op.alice && list_admin && [ "$(failures_of op.alice)" = 0 ]
}
check "a verification resets the count to 0" reset
fault() {
	vein fault 0 on >/dev/null && vein present 0 op.alice >/dev/null &&
		refused terminal_error counter operator.verify "$(va op.alice)"
	_rc=$?
	vein fault 0 off >/dev/null && vein clear 0 >/dev/null && return $_rc
}
check "a terminal reporting a hardware fault: terminal_error" fault

# ---------------------------------------------------------------- forged captures

unpaired() {
	refused terminal_unpaired counter operator.verify "$(va op.alice "$T1")" && rec_operator op.alice
}
check "verify on a terminal never paired: terminal_unpaired, audited with the operator claimed" \
	unpaired
rekeyed() {
	refused device_signature admin terminal.pair "{\"terminal\":\"$T1\",\"fingerprint\":\"$FP0\"}" &&
		call_ok counter device.list '{}' &&
		has "{\"class\":\"terminal\",\"id\":\"$T1\",\"state\":\"ready\",\"paired\":false"
}
check "pairing a terminal whose key is not the one the admin read: device_signature, still unpaired" \
	rekeyed
pair_t1() {
	call_ok admin terminal.pair "{\"terminal\":\"$T1\",\"fingerprint\":\"$FP1\"}" &&
		verify counter2 op.bob op.bob "$T1"
}
check "paired with its own fingerprint, the second terminal verifies op.bob" pair_t1
replay() {
	vein replay 0 >/dev/null && refused device_signature counter operator.verify "$(va op.alice)"
}
check "a replayed capture (signed over an earlier nonce): device_signature" replay
inject() {
	vein inject 0 op.bob >/dev/null && vein present 0 op.alice >/dev/null &&
		refused device_signature counter operator.verify "$(va op.bob)"
}
check "op.bob's template injected on the bus over op.alice's capture: device_signature" inject
flipped() {
	vein inject 0 >/dev/null && vein present 0 op.alice >/dev/null &&
		refused device_signature counter operator.verify "$(va op.alice)"
}
check "a capture altered on the bus: device_signature" flipped
wrong_key() {
	vein wrong-key 0 on >/dev/null && vein present 0 op.alice >/dev/null &&
		refused device_signature counter operator.verify "$(va op.alice)"
	_rc=$?
	vein wrong-key 0 off >/dev/null && vein clear 0 >/dev/null && return $_rc
}
check "a capture signed by another device key: device_signature" wrong_key
check "with its own key again the terminal verifies" verify counter op.alice

# ---------------------------------------------------------------- unplugged

# vein_events EVENT SERIAL: how many times the gateway logged it
vein_events() {
	grep -c "event=device\.vein\.$1 terminal=\"$2\"" "$GW/hwgwd.log"
}
wait_events() { # wait_events EVENT SERIAL N
	i=0
	until [ "$(vein_events "$1" "$2")" -ge "$3" ]; do
		i=$((i + 1))
		[ $i -le 50 ] || return 1
		sleep 0.1
	done
}
unplug() {
	bg_verify counter op.alice
	wait_capturing 0 && vein unplug 0 >/dev/null
	_r=$?
	bg_refused terminal_removed && [ $_r -eq 0 ]
}
check "unplugged mid-capture: terminal_removed" unplug
absent() {
	wait_events detached "$T0" 1 && call_ok counter device.list '{}' &&
		has "{\"class\":\"terminal\",\"id\":\"$T0\",\"state\":\"absent\",\"paired\":true" &&
		! has "\"id\":\"$T0\",\"state\":\"absent\",\"paired\":true,\"model\""
}
check "device.list: the unplugged terminal absent, still paired" absent
check "verify while it is unplugged: no_terminal" \
	refused no_terminal counter operator.verify "$(va op.alice)"
plugged_back() {
	vein plug 0 >/dev/null && wait_events attached "$T0" 2 && call_ok counter device.list '{}' &&
		has "{\"class\":\"terminal\",\"id\":\"$T0\",\"state\":\"ready\",\"paired\":true" &&
		verify counter op.alice
}
check "plugged back in: ready, and op.alice verifies on it" plugged_back

# ---------------------------------------------------------------- template swap

BOB_TEMPLATE=$(db "SELECT hex(template) FROM operators WHERE id = 'op.bob'")
swapped() {
	db "UPDATE operators SET template = (SELECT template FROM operators WHERE id = 'op.alice')
	    WHERE id = 'op.bob'" &&
		vein present 0 op.bob >/dev/null &&
		refused template_tampered counter2 operator.verify "$(va op.bob)" &&
		vein present 0 op.alice >/dev/null &&
		refused template_tampered counter2 operator.verify "$(va op.bob)"
}
check "op.alice's sealed template copied into op.bob's row: template_tampered for his palm and hers" \
	swapped
restored() {
	db "UPDATE operators SET template = x'$BOB_TEMPLATE' WHERE id = 'op.bob'" &&
		verify counter2 op.bob
}
check "his own template put back: op.bob verifies" restored

# ---------------------------------------------------------------- enrolment refusals

mismatch() {
	vein present 0 p.one >/dev/null && vein present 0 p.two >/dev/null &&
		vein present 0 p.three >/dev/null &&
		refused enroll_mismatch admin operator.enroll "$(ea op.mix counter)"
}
check "three enrolment captures of three people: enroll_mismatch" mismatch
duplicate() {
	vein present 0 op.alice 3 >/dev/null &&
		refused duplicate_palm admin operator.enroll "$(ea op.alice2 issuance)" &&
		grep -q 'matches operator "op.alice"' "$GW/rec"
}
check "a palm already enrolled, under another id: duplicate_palm (the audit names whose)" duplicate
taken() {
	vein present 0 op.zed 3 >/dev/null &&
		refused exists admin operator.enroll "$(ea op.alice counter)" && not_captured 3
}
check "an id already taken: exists, before any capture" taken
none_added() {
	list_admin && ! has '"operator_id":"op.mix"' && ! has '"operator_id":"op.alice2"'
}
check "refused enrolments added no operator" none_added

# ---------------------------------------------------------------- valid_until, lockout

# op.exp is valid for 4 s more; the lockout's wait below lets that pass
EXP_UNTIL=$(($(now_ms) + 4000))
exp_verified() {
	enrol op.exp counter "$EXP_UNTIL" && verify desk op.exp && has "\"valid_until_ms\":$EXP_UNTIL" &&
		has "\"expires_ms\":$EXP_UNTIL" && call_ok desk gw.info '{}'
}
check "op.exp, valid for 4 s: verifies, its session ends with valid_until and works" exp_verified

no_match_carol() {
	vein present 0 op.bob >/dev/null && refused no_match counter operator.verify "$(va op.carol)" &&
		rec_operator op.carol
}
check "op.carol: no_match 1" no_match_carol
check "op.carol: no_match 2" no_match_carol
locked_now() {
	no_match_carol && err_has 'is now locked for 3 s' && grep -q 'locked until' "$GW/rec" &&
		list_admin && entry op.carol | grep -q '"failures":0,"sessions":0,"locked_until_ms":'
}
check "op.carol: the third no_match in a row locks her (operator.list: locked_until_ms)" locked_now
CAROL_UNTIL=$(entry op.carol | sed -n 's/.*"locked_until_ms":\([0-9]*\).*/\1/p')
locked() {
	vein present 0 op.carol >/dev/null && refused operator_locked counter operator.verify "$(va op.carol)" &&
		rec_operator op.carol && not_captured 1
}
check "locked: her own palm is refused with operator_locked, before any capture" locked
unlocked() {
	wait_until "${CAROL_UNTIL:-0}" && verify clerk op.carol && list_admin &&
		entry op.carol | grep -q '"failures":0,"sessions":1}'
}
check "after lockout_s (3 s) she verifies again" unlocked

expired() {
	wait_until "$EXP_UNTIL" && vein present 0 op.exp >/dev/null &&
		refused operator_expired counter operator.verify "$(va op.exp)" && err_has "valid until" &&
		rec_operator op.exp && not_captured 1
}
check "past valid_until: operator_expired on verify" expired
exp_session() {
	refused session_required desk gw.info '{}' && session_ended op.exp valid_until
}
check "past valid_until: its open session is refused (session_required), ended for valid_until" \
	exp_session
rm -f "$GW/sessions/desk"

# ---------------------------------------------------------------- sessions, roles

check "operator.list without an admin session: session_required" \
	refused session_required admin2 operator.list '{}'
listed() {
	list_admin &&
		entry adm.1 | grep -q '"role":"admin","state":"active",.*"failures":0,"sessions":1}' &&
		entry op.alice | grep -q '"role":"counter","state":"active","valid_until_ms":[0-9]*,"failures":0,"sessions":1}' &&
		entry op.bob | grep -q '"state":"active",.*"sessions":2}' &&
		entry op.carol | grep -q '"state":"active",.*"sessions":1}' &&
		entry op.exp | grep -q '"state":"active",.*"sessions":0}' &&
		! grep -q template "$GW/out" && [ "$(tr '{' '\n' <"$GW/out" | grep -c '"operator_id"')" = 5 ]
}
check "operator.list with it: five operators, roles, states, failures, sessions (op.bob's on two terminals), no template" \
	listed
card_without() {
	without_session refused session_required counter card.read_info '{"reader":"hwsim 00 00","pin":"1234"}'
}
check "card.read_info without an operator session: session_required" card_without
card_with() {
	_mark=$(audit_seq)
	! vcall counter card.read_info '{"reader":"hwsim 00 00","pin":"1234"}' >/dev/null 2>"$GW/err" &&
		VEIN_REFUSALS=$((VEIN_REFUSALS + 1)) && ! err_has session_required &&
		audited_once "$_mark" "$(sed -n 's/^error: \([a-z_]*\):.*/\1/p' "$GW/err")" counter card.read_info &&
		rec_operator op.alice
}
check "card.read_info with op.alice's session: past the session check (no card here), audited with her" \
	card_with
check "a counter client may not enrol: forbidden" \
	refused forbidden counter operator.enroll "$(ea op.new counter)"
check "a counter client may not list operators: forbidden" \
	refused forbidden counter operator.list '{}'
counter_session_on_admin_client() {
	verify admin2 op.bob && refused forbidden admin2 operator.list '{}' && rec_operator op.bob &&
		err_has 'role counter'
}
check "an admin client with a counter operator's session may not list: forbidden" \
	counter_session_on_admin_client
other_client() {
	refused session_required counter2 gw.info '{}' --session-file "$GW/sessions/counter" &&
		err_has 'another client'
}
check "op.alice's token sent by another client: session_required" other_client

revoked() {
	call_ok admin operator.revoke '{"operator_id":"op.alice"}' && has '"state":"revoked"' &&
		has '"sessions_ended":1'
}
check "operator.revoke op.alice: revoked, her one session ended" revoked
check "her session is refused afterwards: session_required" \
	refused session_required counter gw.info '{}'
rm -f "$GW/sessions/counter"
revoked_verify() {
	vein present 0 op.alice >/dev/null && refused operator_expired counter operator.verify "$(va op.alice)" &&
		err_has revoked && not_captured 1
}
check "a revoked operator cannot verify: operator_expired" revoked_verify
revoked_listed() {
	list_admin && entry op.alice | grep -q '"state":"revoked",.*"sessions":0}'
}
check "operator.list: op.alice revoked, no session" revoked_listed
check "a revoked id is never reused: exists" \
	refused exists admin operator.enroll "$(ea op.alice counter)"

# ---------------------------------------------------------------- audit

audit_count() {
	[ "$(db "SELECT count(*) FROM audit WHERE transport = 'unix' AND result != 'ok'")" = "$VEIN_REFUSALS" ]
}
check "the audit holds one refusal record per refusal asked for, and no other" audit_count
check "the audit chain verifies" sh -c "'$HWGWCTL' audit verify --config '$GW/hwgwd.conf'"
check "no session token in the log" sh -c "! grep -q '$TOKEN_ALICE' '$GW/hwgwd.log'"
echo "# $(($(now_ms) - START_MS)) ms after the gateway started"
sh_test_end
