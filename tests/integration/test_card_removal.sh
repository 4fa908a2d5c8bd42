#!/bin/sh
# test_card_removal.sh — the card pulled out at every APDU of every card
# operation: each time the request is refused with card_removed (not a
# generic error), one audit record says so, no PIN try is lost, and the
# same request succeeds once the card is back.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
card_start counter:counter issuance:issuance auditor:auditor --insert alice || exit 1
R0='"reader":"hwsim 00 00"'
ZERO=$(printf '%064d' 0)
removals=0

# pulled_at K CLIENT OP ARGS: the card goes at APDU K; then back, and the call succeeds
pulled_at() {
	_k=$1
	shift
	sim fault 0 remove-at "$_k" >/dev/null || return 1
	refused card_removed "$@" || { cat "$GW/err" >&2; return 1; }
	card_wait 0 no && call_ok counter card.status "{$R0}" && has '"present":false' || return 1
	sim reinsert 0 >/dev/null && card_wait 0 yes && call_ok "$@"
}

# every_position OP CLIENT ARGS
every_position() {
	_op=$1 _client=$2 _args=$3
	sim apdus-clear 0 >/dev/null
	call_ok "$_client" "$_op" "$_args" || { echo "$_op does not succeed" >&2; return 1; }
	_n=$(apdu_count 0)
	echo "# $_op: $_n APDUs"
	[ "$_n" -gt 0 ] || return 1
	for k in $(seq 1 "$_n"); do
		check "$_op: card pulled at APDU $k of $_n -> card_removed, then ok once back" \
			pulled_at "$k" "$_client" "$_op" "$_args"
		removals=$((removals + 1))
	done
}

every_position card.status counter "{$R0}"
every_position card.read_info counter "{$R0,\"pin\":\"1234\"}"
every_position card.authenticate counter "{$R0,\"pin\":\"1234\"}"
every_position card.sign issuance "{$R0,\"password\":\"ABC123\",\"digest\":\"hex:$ZERO\"}"

untouched() { call_ok counter card.status "{$R0}" && has '"tries":{"auth":3,"support":3,"sign":5}'; }
check "no PIN try was lost to a removal" untouched
audited() {
	call_ok auditor audit.query '{"limit":1000}' &&
		[ "$(grep -o '"result":"card_removed"' "$GW/out" | wc -l)" -eq "$removals" ]
}
check "one audit record per removal ($removals), each card_removed" audited
check "audit: the chain verifies" sh -c "'$HWGWCTL' audit verify --config '$GW/hwgwd.conf'"

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
