#!/bin/sh
# test_cert_issue.sh — certificates through a real hwgwd, its renderer,
# the keyholder's seal key and hwsim's printer on umockdev's bus (issue 14,
# "Done when"): a 住民票の写し issued whose spooled PDF's text is exactly
# the document's fields and the renderer's template strings; its page
# drawn at 150 dpi, the QR code read back by zbarimg and accepted by
# `hwgwctl cert verify` with the seal key `hwgwctl cert seal-key` kept from
# gw.info (and from the PDF), refused with one character changed; each
# refusal (a registry signature not the registry's, a field from another
# record version, a required field missing, the My Number for a proxy, a
# document for another gateway, a counter client, a counter operator, no
# session, an issuance operator's reprint) audited once with its code,
# nothing spooled, the journal and cert.history unchanged; a cert.issue
# retried with its request id answering the first issuance (one copy),
# the same id with another document refused; a supervisor's reprint
# marked 再発行 with the original's number, linked in cert.status and
# cert.history; device.list showing the printer; and the renderer of the
# running gateway holding no descriptor but 0, 1, 2 and its link, and no
# SQLite, libusb, pcsclite or SoftHSM mapped.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/certenv.sh"
cert_test_start || exit 1
S1=10000000001

# ---------------------------------------------------------------- a certificate

issued() {
	issue station good $S1 rq-good-1 && has '"state":"printed"' && has '"pages":1' &&
		has '"pages_expected":1' && has "\"printer\":\"$PRINTER_SERIAL\"" &&
		[ "$(field updated_ms)" -gt "$(field reserved_ms)" ] &&
		has '"kind":"juminhyo"' && spooled "$NO" && [ "$(jstate "$NO")" = printed ] &&
		DATE=$(field date) && NO1=$NO
}
check "cert.issue: a 住民票の写し printed, confirmed for its one page, spooled once" issued
same_status() {
	cp "$GW/out" "$GW/issued" && status station "$NO1" && cmp -s "$GW/out" "$GW/issued"
}
check "  cert.status says what cert.issue answered (the journal's times)" same_status
issue_audited() {
	db "SELECT operator_id, subject, result, detail FROM audit WHERE client = 'station' AND
	    operation = 'cert.issue' ORDER BY seq DESC LIMIT 1" >"$GW/rec" &&
		grep -q "^op.issuer|$S1|ok|.*issuance=$NO1.*kind=juminhyo relation=self" "$GW/rec"
}
check "  audited with the operator, the resident, the number, kind and relation" issue_audited
exact_text() {
	page_text "$NO1" && "$MAKE_CERTDOC" page-text good "$GW/$NO1.txt" --subject $S1 \
		--no "$NO1" --date "$DATE" --city "$CERT_CITY" --mayor "$CERT_MAYOR" --pages 1
}
check "  its text is the document's fields and the template strings, nothing else" exact_text
not_other() { # the check can fail: another document's values are missing from this page
	! "$MAKE_CERTDOC" page-text household "$GW/$NO1.txt" --no "$NO1" --date "$DATE" \
		--city "$CERT_CITY" --mayor "$CERT_MAYOR" --pages 1 >/dev/null
}
check "  (and the check refuses the page for a household's document)" not_other

seal_key() {
	gw_call station gw.info --socket "$GW/hwgw.sock" >"$GW/gw-info.json" &&
		"$HWGWCTL" cert seal-key --out "$GW/seal.pem" --from "$GW/gw-info.json" >/dev/null
}
check "the seal key kept from gw.info's verified answer (hwgwctl cert seal-key)" seal_key
qr_read() {
	pdftoppm -r 150 -png -f 1 -l 1 "$PRINT_SPOOL/$NO1.pdf" "$GW/page" &&
		CODE=$(zbarimg --raw -q "$GW/page-1.png" 2>/dev/null | head -n 1) &&
		case $CODE in HWC1:*) ;; *) false ;; esac
}
check "the page drawn at 150 dpi (pdftoppm), its QR code read (zbarimg)" qr_read
verified() { # verified ARGS...: accepted, for this issuance
	"$HWGWCTL" cert verify "$@" --key "$GW/seal.pem" >"$GW/verify.out" &&
		grep -qx "verified: the gateway's seal key signed this code" "$GW/verify.out" &&
		grep -qx "number: $NO1" "$GW/verify.out" && grep -qx "date: $DATE" "$GW/verify.out" &&
		grep -qx "gateway: $GW_ID" "$GW/verify.out"
}
check "  hwgwctl cert verify accepts the code read from the page" verified --code "$CODE"
check "  and the PDF itself (--pdf)" verified --pdf "$PRINT_SPOOL/$NO1.pdf"
doc_digest() {
	[ "$(sed -n 's/^document: //p' "$GW/verify.out")" = \
		"$(db "SELECT hex(doc_digest) FROM issuances WHERE issuance_no = '$NO1'" |
			tr A-F a-f)" ]
}
check "  its document digest is the journal's" doc_digest
# one character of the code changed for another of base45's alphabet
changed() {
	_pos=$1
	_c=$(printf '%s' "$CODE" | cut -c"$_pos")
	_to=0
	[ "$_c" != 0 ] || _to=1
	printf '%s%s%s' "$(printf '%s' "$CODE" | cut -c1-$((_pos - 1)))" "$_to" \
		"$(printf '%s' "$CODE" | cut -c$((_pos + 1))-)"
}
refused_code() {
	_bad=$(changed "$1") && [ "$_bad" != "$CODE" ] &&
		! "$HWGWCTL" cert verify --code "$_bad" --key "$GW/seal.pem" >"$GW/verify.out" 2>&1 &&
		grep -q 'refused' "$GW/verify.out"
}
check "  refused with one character changed in its signature" refused_code $((${#CODE} - 3))
check "  refused with one character changed in its summary" refused_code 12

listed() {
	call_ok counter device.list '{}' &&
		has "{\"class\":\"printer\",\"id\":\"$PRINTER_SERIAL\",\"state\":\"ready\",\"model\":\"CP-200\"}"
}
check "device.list shows the printer, ready, with its model" listed

# ---------------------------------------------------------------- refusals

# refused_doc CODE CLIENT CASE SUBJECT [--no-session]: cert.issue refused
# with CODE, audited once, nothing spooled or journalled, no history
refused_issue() {
	_code=$1 _client=$2 _case=$3 _subject=$4
	_a=$(issue_args "$_case" "$_subject" "rq-$_case-$_client") || return 1
	if [ "${5:-}" = --no-session ]; then
		unchanged_after without_session refused "$_code" "$_client" cert.issue "$_a" || return 1
	else
		unchanged_after refused "$_code" "$_client" cert.issue "$_a" || return 1
	fi
	[ "$(history_n "$_subject")" = 0 ]
}
check "a document signed by another key under the registry's kid: document_signature" \
	refused_issue document_signature station badsig 10000000201
check "  the audit names the resident nowhere (the signature came first)" \
	sh -c "! cut -d'|' -f2 '$GW/rec' | grep -q 10000000201"
check "a person's field from another record version: document_mismatch" \
	refused_issue document_mismatch station mismatch 10000000202
check "  the refusal names the person and the record version" \
	grep -q "person 1: a field is not from record version 3" "$GW/rec"
check "a required field missing (birth): document_invalid" \
	refused_issue document_invalid station missing 10000000203
check "the My Number asked for by a proxy: my_number_not_allowed" \
	refused_issue my_number_not_allowed station mynumber-proxy 10000000204
check "a document built for another gateway: document_invalid" \
	refused_issue document_invalid station wronggw 10000000205
check "  built for another gateway, the refusal says" grep -q "built for another gateway" "$GW/rec"
check "a counter client: forbidden" refused_issue forbidden counter good 10000000206
check "an issuance client with a counter operator's session: forbidden" \
	refused_issue forbidden clerk good 10000000207
check "no operator session: session_required" \
	refused_issue session_required station good 10000000208 --no-session
check "a registry client may not call cert.issue itself: forbidden" \
	refused_issue forbidden registry good 10000000209

# ---------------------------------------------------------------- the same request again

S2=10000000101
retried() {
	issue_args good $S2 rq-retry >"$GW/retry.json" &&
		call_ok station cert.issue "$(cat "$GW/retry.json")" && _first=$(field issuance_no) &&
		call_ok station cert.issue "$(cat "$GW/retry.json")" &&
		[ "$(field issuance_no)" = "$_first" ] && has '"state":"printed"' &&
		spooled "$_first" && [ "$(history_n $S2)" = 1 ] &&
		[ "$(printer_jobs | tr ' ' '\n' | grep -c "^$_first=")" = 1 ]
}
check "cert.issue retried with its request id: the first issuance, one copy, one job" retried
retry_audited() {
	db "SELECT detail FROM audit WHERE client = 'station' AND operation = 'cert.issue'
	    ORDER BY seq DESC LIMIT 1" | grep -q "the first issuance of this request id"
}
check "  the retry's audit record says it answered the first issuance" retry_audited
conflict() {
	unchanged_after refused request_conflict station cert.issue "$(issue_args household $S2 rq-retry)"
}
check "the same request id with another document: request_conflict, nothing printed" conflict

# ---------------------------------------------------------------- reprint

reprint_args() { # ORIGINAL REQUEST_ID
	printf '{"issuance_no":"%s","reason":"汚損のため","document":"hex:%s","request_id":"%s"}' \
		"$1" "$(certdoc good $S1)" "$2"
}
check "an issuance operator may not reprint: forbidden, nothing printed" \
	unchanged_after refused forbidden station cert.reprint "$(reprint_args "$NO1" rp-0)"
reprinted() {
	call_ok boss cert.reprint "$(reprint_args "$NO1" rp-1)" && RP=$(field issuance_no) &&
		[ "$RP" != "$NO1" ] && has '"state":"printed"' && has "\"original\":\"$NO1\"" &&
		spooled "$RP" && spooled "$NO1"
}
check "a supervisor's reprint with a reason: a new number, printed, spooled once" reprinted
reprint_text() {
	page_text "$RP" && grep -q '再発行' "$GW/$RP.txt" && grep -qF "$NO1" "$GW/$RP.txt" &&
		"$MAKE_CERTDOC" page-text good "$GW/$RP.txt" --subject $S1 --no "$RP" \
			--date "$DATE" --city "$CERT_CITY" --mayor "$CERT_MAYOR" --pages 1 --orig "$NO1"
}
check "  its page says 再発行 and the original's number, and nothing else but the fields" \
	reprint_text
reprint_code() {
	pdftoppm -r 150 -png -f 1 -l 1 "$PRINT_SPOOL/$RP.pdf" "$GW/rp" &&
		"$HWGWCTL" cert verify --code "$(zbarimg --raw -q "$GW/rp-1.png" 2>/dev/null | head -n 1)" \
			--key "$GW/seal.pem" >"$GW/verify.out" &&
		grep -qx "number: $RP" "$GW/verify.out" && grep -qx "reprint of: $NO1" "$GW/verify.out"
}
check "  its code verifies as a reprint of the original" reprint_code
linked() {
	status boss "$RP" && has "\"original\":\"$NO1\"" && has '"state":"printed"'
}
check "  cert.status links it to the original" linked
check "a reprint of an unknown number: not_found, nothing printed" \
	unchanged_after refused not_found boss cert.reprint "$(reprint_args "$GW_ID-20000101-999999" rp-2)"
history() {
	call_ok auditor cert.history "{\"resident_code\":\"$S1\"}" &&
		[ "$(grep -o '"issuance_no"' "$GW/out" | wc -l)" = 2 ] &&
		has "\"issuance_no\":\"$RP\"" && has "\"original\":\"$NO1\"" &&
		has '"operator":"sup.1"' && has '"operator":"op.issuer"' && has '"client":"boss"'
}
check "cert.history (auditor) lists both, the reprint linked to the original" history
check "cert.status of another station's issuance: forbidden" \
	refused forbidden boss cert.status "{\"issuance_no\":\"$NO1\"}"
check "cert.history is the auditor's: forbidden to a station" \
	refused forbidden station cert.history "{\"resident_code\":\"$S1\"}"

# ---------------------------------------------------------------- the renderer's sandbox

RPID=$(renderer_pid)
fds_only_link() {
	[ -n "$RPID" ] && [ "$(ls "/proc/$RPID/fd" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ] &&
		readlink "/proc/$RPID/fd/3" | grep -q '^socket:' &&
		[ "$(readlink "/proc/$RPID/fd/0")" = /dev/null ] &&
		[ "$(readlink "/proc/$RPID/fd/1")" = /dev/null ]
}
check "the running gateway's renderer (pid ${RPID:-none}) holds fds 0, 1, 2 and its link only" \
	fds_only_link
check "  its link is a socketpair's end (no path)" \
	sh -c "! ls -l /proc/$RPID/fd | grep -Eq 'hwgw\\.db|/dev/bus|pcscd|softhsm|\\.sock'"
no_maps() {
	[ -r "/proc/$RPID/maps" ] &&
		! grep -Eq 'libsqlite3|libusb|libpcsclite|softhsm|libp11' "/proc/$RPID/maps" &&
		grep -q 'libcairo' "/proc/$RPID/maps"
}
check "  maps no libsqlite3, libusb, libpcsclite or softhsm (and does map cairo)" no_maps
sandboxed() {
	grep -Eq '^Seccomp:[[:space:]]+2' "/proc/$RPID/status" &&
		grep -Eq '^NoNewPrivs:[[:space:]]+1' "/proc/$RPID/status"
}
check "  and runs under its seccomp filter" sandboxed
check "the renderer that printed them is still the one that started" \
	test "$(renderer_pid)" = "$RPID"

sh_test_end
