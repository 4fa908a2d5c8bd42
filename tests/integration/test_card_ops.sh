#!/bin/sh
# test_card_ops.sh — each card operation succeeds against real pcscd and a
# card played by hwsim, with what a counter needs in the answer; roles,
# PIN rules and readers are refused before the card is touched; PINs are
# never in the log or the state directory; device.list and the audit show
# readers, cards and subjects.  The personal-data operations need an
# operator session of the calling client whose operator's role allows
# them, checked before the card is touched, and their audit records name
# the operator.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
card_start counter:counter issuance:issuance maint:maintenance auditor:auditor --insert alice || exit 1
R0='"reader":"hwsim 00 00"'
R1='"reader":"hwsim 00 01"'

status_alice() {
	call_ok maint card.status "{$R0}" && has '"present":true' && has '"type":"mynumber"' &&
		has '"tries":{"auth":3,"support":3,"sign":5}' && has '"atr":"hex:3bda13ff8131fb46'
}
check "card.status: present, My Number card, ATR, tries 3/3/5 (maintenance may ask)" status_alice
check "card.status spends no try: still 3/3/5" status_alice
empty_reader() { call_ok counter card.status "{$R1}" && has '"present":false' && ! has '"type"'; }
check "card.status of an empty reader: present false, nothing else" empty_reader
check "card.status of an unknown reader: no_reader" \
	refused no_reader counter card.status '{"reader":"no such reader"}'

devices() {
	call_ok maint device.list '{}' &&
		has '{"class":"pcscd","id":"pcscd","state":"ready"}' &&
		has '{"class":"reader","id":"hwsim 00 00","state":"ready","card_present":true,"atr":"hex:' &&
		has '{"class":"reader","id":"hwsim 00 01","state":"ready","card_present":false}'
}
check "device.list: pcscd, both readers, the card in slot 0" devices

read_info_counter() {
	call_ok counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		has '"name":"𠮷田　花子"' && has '"address":"東京都千代田区霞が関２丁目１番２号"' &&
		has '"birth":"19850401"' && has '"sex":"2"' && has '"mynumber":"537686677188"' &&
		has '"integrity":"verified"'
}
check "card.read_info (counter): four facts with the 外字 name, My Number, integrity verified" \
	read_info_counter
read_info_masked() {
	call_ok issuance card.read_info "{$R0,\"pin\":\"1234\"}" && has '"mynumber_masked":true' &&
		! has '537686677188' && has '"name":"𠮷田　花子"'
}
check "card.read_info (issuance, not in mynumber_roles): My Number masked" read_info_masked

authenticate() {
	call_ok counter card.authenticate "{$R0,\"pin\":\"1234\"}" &&
		has '"issuer_root":"auth-root-2"' && has '"revocation":"good"' &&
		has 'O=JPKI-TEST-SIM' || return 1
	json_hex certificate >"$GW/auth.der" && json_hex challenge >"$GW/challenge" &&
		json_hex signature >"$GW/auth.sig" &&
		openssl x509 -inform DER -in "$GW/auth.der" -pubkey -noout >"$GW/auth.pub" &&
		openssl dgst -sha256 -verify "$GW/auth.pub" -signature "$GW/auth.sig" "$GW/challenge"
}
check "card.authenticate: issuer found by signature (root 2 of 2 with one DN), card signed the challenge" \
	authenticate

sign() {
	printf 'certificate of residence, issue 1\n' >"$GW/doc"
	d=$(openssl dgst -sha256 -r "$GW/doc" | cut -c1-64)
	call_ok issuance card.sign "{$R0,\"password\":\"abc123\",\"digest\":\"hex:$d\"}" || return 1
	json_hex certificate >"$GW/sign.der" && json_hex signature >"$GW/sign.sig" &&
		openssl x509 -inform DER -in "$GW/sign.der" -pubkey -noout >"$GW/sign.pub" &&
		openssl dgst -sha256 -verify "$GW/sign.pub" -signature "$GW/sign.sig" "$GW/doc"
}
check "card.sign (issuance, password in lower case): signature verifies with the signing certificate" sign

check "card.sign refused to a counter: forbidden" \
	refused forbidden counter card.sign "{$R0,\"password\":\"ABC123\",\"digest\":\"hex:$(printf '%064d' 0)\"}"
check "card.read_info refused to maintenance: forbidden" \
	refused forbidden maint card.read_info "{$R0,\"pin\":\"1234\"}"
check "card.authenticate refused to an auditor: forbidden" \
	refused forbidden auditor card.authenticate "{$R0,\"pin\":\"1234\"}"

no_apdu() { # no_apdu CODE CLIENT OP ARGS: refused with CODE and the card saw nothing
	sim apdus-clear 0 >/dev/null && refused "$@" && [ "$(apdu_count 0)" = 0 ]
}

# ---- operator sessions
# audit_last CLIENT OP: "operator|result" of the newest audit record of OP by CLIENT
audit_last() {
	sqlite3 "$GW/state/hwgw.db" "SELECT operator_id || '|' || result FROM audit
		WHERE client = '$1' AND operation = '$2' ORDER BY seq DESC LIMIT 1"
}
without_session() { # the counter's session put aside for one request
	mv "$GW/sessions/counter" "$GW/counter.session" || return 1
	no_apdu session_required counter card.read_info "{$R0,\"pin\":\"1234\"}"
	_r=$?
	mv "$GW/counter.session" "$GW/sessions/counter"
	[ $_r -eq 0 ] && grep -q 'needs an operator session' "$GW/err" &&
		[ "$(audit_last counter card.read_info)" = "|session_required" ]
}
check "card.read_info without an operator session: session_required, card untouched, audited" \
	without_session
with_session() {
	sim apdus-clear 0 >/dev/null && call_ok counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		has '"integrity":"verified"' && [ "$(apdu_count 0)" -gt 0 ] &&
		[ "$(audit_last counter card.read_info)" = "op.counter|ok" ] &&
		"$HWGWCTL" audit query --config "$GW/hwgwd.conf" --operator op.counter --limit 10000 |
		tail -n 1 | grep -q ' client=counter .* op=card.read_info operator=op.counter .* result=ok$'
}
check "card.read_info with the counter's session: served, the audit names operator op.counter" \
	with_session
other_client() {
	no_apdu session_required issuance card.read_info "{$R0,\"pin\":\"1234\"}" \
		--session-file "$GW/sessions/counter" && grep -q 'opened by another client' "$GW/err"
}
check "the counter's session sent by the issuance client: session_required, card untouched" \
	other_client
sign_audited() {
	[ "$(audit_last issuance card.sign)" = "op.issuance|ok" ]
}
check "card.sign by operator op.issuance (role issuance) was served and audited with it" \
	sign_audited
# op.counter verified on the issuance client: a live session there, of role counter
counter_on_issuance() {
	vein present 0 op.counter >/dev/null &&
		card_call issuance operator.verify \
			"{\"terminal\":\"$VEIN_TERMINAL\",\"operator_id\":\"op.counter\"}" \
			--session-out "$GW/issuance-as-counter" >/dev/null && [ -s "$GW/issuance-as-counter" ]
}
check "operator op.counter opens a session on the issuance client" counter_on_issuance
counter_signs() {
	no_apdu forbidden issuance card.sign \
		"{$R0,\"password\":\"ABC123\",\"digest\":\"hex:$(printf '%064d' 0)\"}" \
		--session-file "$GW/issuance-as-counter" &&
		grep -qF 'operator "op.counter" (role counter) may not call card.sign' "$GW/err" &&
		[ "$(audit_last issuance card.sign)" = "op.counter|forbidden" ]
}
check "card.sign on the issuance client with a counter operator's session: forbidden, card untouched" \
	counter_signs
check "PIN of letters refused before any APDU: pin_format" \
	no_apdu pin_format counter card.read_info "{$R0,\"pin\":\"12a4\"}"
check "PIN of 5 digits refused before any APDU" \
	no_apdu pin_format counter card.authenticate "{$R0,\"pin\":\"12345\"}"
check "password of 5 characters refused before any APDU" \
	no_apdu pin_format issuance card.sign "{$R0,\"password\":\"ABC12\",\"digest\":\"hex:$(printf '%064d' 0)\"}"
check "password with a symbol refused before any APDU" \
	no_apdu pin_format issuance card.sign "{$R0,\"password\":\"ABC-123\",\"digest\":\"hex:$(printf '%064d' 0)\"}"
check "digest of 31 bytes refused: bad_arguments" \
	no_apdu bad_arguments issuance card.sign "{$R0,\"password\":\"ABC123\",\"digest\":\"hex:$(printf '%062d' 0)\"}"
check "unknown argument refused: bad_arguments" \
	no_apdu bad_arguments counter card.status "{$R0,\"slot\":1}"
check "the PIN error message does not echo the PIN" sh -c "! grep -q 12a4 '$GW/err'"

check "no card in slot 1: no_card" refused no_card counter card.read_info "{$R1,\"pin\":\"1234\"}"

subject_audited() {
	call_ok auditor audit.query '{"limit":1000}' &&
		tr '{' '\n' <"$GW/out" | grep '"op":"card.read_info"' | grep -q '"subject":"mn:[0-9a-f]\{32\}"' &&
		tr '{' '\n' <"$GW/out" | grep '"op":"card.authenticate"' | grep -q '"subject":"jpki-auth:' &&
		tr '{' '\n' <"$GW/out" | grep '"op":"card.sign"' | grep -q '"subject":"jpki-sign:' &&
		tr '{' '\n' <"$GW/out" | grep -q '"op":"device.card.inserted"'
}
check "audit: My Number as a keyed hash, certificate serials, the card insertion" subject_audited
check "audit: the chain verifies" sh -c "'$HWGWCTL' audit verify --config '$GW/hwgwd.conf'"
check "audit: no My Number, name or PIN in the state directory or the log" \
	sh -c "! grep -rqaE '537686677188|花子|ABC123|abc123|\"1234\"' '$GW/state' '$GW/hwgwd.log'"

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
