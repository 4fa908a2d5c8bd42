#!/bin/sh
# test_card_pin.sh — wrong PINs count down to the lock with the tries left
# in each refusal; the locking try says so; afterwards the card answers
# 6984 and the gateway never sends it another PIN (only the no-data VERIFY
# that reads the tries); each PIN is its own counter.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
card_start counter:counter issuance:issuance auditor:auditor --insert alice || exit 1
R0='"reader":"hwsim 00 00"'
ZERO=$(printf '%064d' 0)

tries() { # tries N: refused with "(tries left: N)"
	grep -q "(tries left: $1)\$" "$GW/err"
}
wrong() { # wrong CODE N CLIENT OP ARGS
	_c=$1 _n=$2
	shift 2
	refused "$_c" "$@" && tries "$_n"
}
# verify_with_data_sent: did the card get a VERIFY carrying a PIN (Lc > 0)?
verify_with_data_sent() {
	sim apdus 0 | tr ' ' '\n' | grep -qi '^00200080[0-9a-f]'
}

check "read_info, wrong PIN: pin_wrong, 2 tries left" \
	wrong pin_wrong 2 counter card.read_info "{$R0,\"pin\":\"9999\"}"
check "read_info, wrong PIN again: 1 try left" \
	wrong pin_wrong 1 counter card.read_info "{$R0,\"pin\":\"9998\"}"
check "read_info, the locking try: pin_locked, 0 left" \
	wrong pin_locked 0 counter card.read_info "{$R0,\"pin\":\"9997\"}"
locked_no_verify() {
	sim apdus-clear 0 >/dev/null && wrong pin_locked 0 counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		! verify_with_data_sent && sim apdus 0 | tr ' ' '\n' | grep -qi '^00200080$'
}
check "locked: even the right PIN is refused and no PIN is sent to the card" locked_no_verify
status_support0() {
	call_ok counter card.status "{$R0}" && has '"tries":{"auth":3,"support":0,"sign":5}'
}
check "locked: card.status shows support 0, the other PINs untouched" status_support0
sim_support0() { sim tries 0 | grep -q 'support=0'; }
check "hwsim agrees: the support PIN has 0 tries" sim_support0

check "authenticate, wrong PIN: 2 left" wrong pin_wrong 2 counter card.authenticate "{$R0,\"pin\":\"0000\"}"
check "authenticate, right PIN resets the counter" call_ok counter card.authenticate "{$R0,\"pin\":\"1234\"}"
check "authenticate, wrong PIN after the reset: 2 left again" \
	wrong pin_wrong 2 counter card.authenticate "{$R0,\"pin\":\"0000\"}"

n=4
for t in 4 3 2 1; do
	check "sign, wrong password: $t left" \
		wrong pin_wrong $t issuance card.sign "{$R0,\"password\":\"WRONG$n\",\"digest\":\"hex:$ZERO\"}"
	n=$((n + 1))
done
check "sign, the fifth wrong password locks" \
	wrong pin_locked 0 issuance card.sign "{$R0,\"password\":\"WRONG9\",\"digest\":\"hex:$ZERO\"}"
sign_locked() {
	sim apdus-clear 0 >/dev/null &&
		wrong pin_locked 0 issuance card.sign "{$R0,\"password\":\"ABC123\",\"digest\":\"hex:$ZERO\"}" &&
		! verify_with_data_sent
}
check "sign password locked: refused without sending it" sign_locked
audited() { # audited RESULT N: N records with that result
	call_ok auditor audit.query '{"limit":1000}' &&
		[ "$(grep -o "\"result\":\"$1\"" "$GW/out" | wc -l)" -eq "$2" ]
}
check "every wrong PIN audited (8 pin_wrong)" audited pin_wrong 8
check "every locked refusal audited (4 pin_locked)" audited pin_locked 4

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
