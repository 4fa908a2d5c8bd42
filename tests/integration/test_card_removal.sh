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

# every_position OP CLIENT ARGS: on a card already identified (each
# pulled_at leaves it so), as the operation runs but for the first time
every_position() {
	_op=$1 _client=$2 _args=$3
	call_ok "$_client" "$_op" "$_args" && sim apdus-clear 0 >/dev/null &&
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

# the first operation after an insertion reads the token label (APDUs 1-3);
# pulled there, the next insertion is identified afresh
fresh_pulled_at() {
	card_remove 0 && sim reinsert 0 >/dev/null && card_wait 0 yes && pulled_at "$@"
}
for k in 1 2 3; do
	check "card.status, first after insertion: card pulled at APDU $k (token label) -> card_removed, then ok" \
		fresh_pulled_at "$k" counter card.status "{$R0}"
	removals=$((removals + 1))
done
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

# ---- a card swapped between two operations is a new card: the gateway
# keeps what a card said of itself (type, PINs open or locked) only for
# as long as it stays in, by pcscd's event counter for the reader
label_read() { sim apdus 0 | tr ' ' '\n' | grep -qx 00A4020C020006; }
pin_sent() { sim apdus 0 | tr ' ' '\n' | grep -qi '^00200080[0-9a-f]'; }
alice_support2() {
	refused pin_wrong counter card.read_info "{$R0,\"pin\":\"9999\"}" &&
		call_ok counter card.status "{$R0}" && has '"tries":{"auth":3,"support":2,"sign":5}'
}
check "swap: alice's card-info PIN at 2 tries, as the gateway knows it" alice_support2
swapped_bob() {
	card_remove 0 && card_insert 0 bob && sim apdus-clear 0 >/dev/null &&
		call_ok counter card.status "{$R0}" && has '"tries":{"auth":3,"support":3,"sign":5}' &&
		label_read && call_ok counter card.read_info "{$R0,\"pin\":\"4321\"}" &&
		has '"name":"山田　太郎"' && has '"birth":"19700115"'
}
check "swap: alice out, bob in: his label read, his tries (3/3/5) and his facts" swapped_bob
# bob's card-info PIN is known open; alice-locked goes in at once, without
# waiting for pcscd: until pcscd has seen the swap a request meets the
# old connection and is refused (card_removed, or card_error when pcscd
# has the new card already: the old transaction is gone); then the new
# card is identified and its locked PIN asked about, never sent
swapped_quick() {
	sim remove 0 >/dev/null && sim insert 0 "$CARD_PKI/cards/alice-locked.card" >/dev/null &&
		sim apdus-clear 0 >/dev/null || return 1
	i=0
	while refused '[a-z_]*' counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		grep -Eq '^error: (card_removed|no_card|card_error|card_reset): ' "$GW/err"; do
		i=$((i + 1))
		[ $i -le 30 ] || return 1
		sleep 0.1
	done
	grep -q '^error: pin_locked: ' "$GW/err" && grep -q '(tries left: 0)$' "$GW/err" &&
		label_read && ! pin_sent && sim apdus 0 | tr ' ' '\n' | grep -qx 00200080
}
check "swap at once, bob out, alice-locked in: pin_locked, label read, her PIN never sent" \
	swapped_quick
locked_status() {
	call_ok counter card.status "{$R0}" && has '"tries":{"auth":3,"support":0,"sign":5}' &&
		sim tries 0 | grep -q 'support=0'
}
check "swap at once: card.status shows the new card's tries without spending one" locked_status

# another program resets the card and selects the input-support
# application between two card.authenticate: the gateway never takes a
# selection across transactions, its first APDU selects the JPKI-AP
other_program() {
	call_ok counter card.authenticate "{$R0,\"pin\":\"1234\"}" || return 1
	printf 'reset\n00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08\nexit\n' |
		scriptor -r "$READER0" >"$GW/scriptor.out" 2>&1 || { cat "$GW/scriptor.out" >&2; return 1; }
	sim apdus-clear 0 >/dev/null && call_ok counter card.authenticate "{$R0,\"pin\":\"1234\"}" &&
		[ "$(sim apdus 0 | cut -d' ' -f3)" = 00A4040C0AD392F000260100000001 ]
}
check "reset and another application selected by another program: the next operation selects its own" \
	other_program

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
