#!/bin/sh
# test_card_trust.sh — cards and certificates the gateway must refuse:
# revoked, expired, issued by an unconfigured root, checked against a
# stale CRL (and accepted within the configured grace), an input-support
# file changed after issue, the retired 住基カード and a card that is no
# My Number card.  A refused certificate costs the resident no PIN try.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
card_start counter:counter || exit 1
R0='"reader":"hwsim 00 00"'

# with_card NAME CODE: authenticate with card NAME is refused with CODE and no try is spent
with_card() {
	card_insert 0 "$1" || return 1
	sim apdus-clear 0 >/dev/null
	refused "$2" counter card.authenticate "{$R0,\"pin\":\"4321\"}" || return 1
	! sim apdus 0 | tr ' ' '\n' | grep -qi '^00200080[0-9a-f]' &&
		call_ok counter card.status "{$R0}" && has '"auth":3' && card_remove 0
}
check "revoked certificate: cert_revoked, PIN never sent" with_card revoked cert_revoked
check "expired certificate: cert_expired, PIN never sent" with_card expired cert_expired
check "certificate from a root that is not configured: cert_untrusted" with_card wrongroot cert_untrusted
bob_ok() {
	card_insert 0 bob && call_ok counter card.authenticate "{$R0,\"pin\":\"4321\"}" &&
		has '"issuer_root":"auth-root-1"' && card_remove 0
}
check "bob's card, root 1 of the two with one DN: accepted" bob_ok

juki() {
	card_insert 0 juki && refused card_retired counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		grep -q '住基カード' "$GW/err" && call_ok counter card.status "{$R0}" &&
		has '"type":"jukicard"' && ! has '"tries"' && card_remove 0
}
check "住基カード: card_retired naming the card type; status says jukicard" juki
blank() {
	card_insert 0 blank && refused card_unsupported counter card.authenticate "{$R0,\"pin\":\"1234\"}" &&
		call_ok counter card.status "{$R0}" && has '"type":"unknown"' && card_remove 0
}
check "a card without the JPKI application: card_unsupported" blank
jukiatr() {
	card_insert 0 alice-jukiatr && call_ok counter card.status "{$R0}" &&
		has '"atr":"hex:3be000ff8131fe4514"' && has '"type":"mynumber"' && card_remove 0
}
check "a My Number card presenting the 住基カード's ATR is a My Number card (told by what it reads)" jukiatr
mnatr() {
	card_insert 0 juki-mnatr && refused card_retired counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		call_ok counter card.status "{$R0}" && has '"atr":"hex:3bda13ff' &&
		has '"type":"jukicard"' && card_remove 0
}
check "a 住基カード presenting a My Number card's ATR is still retired" mnatr

tampered() {
	card_insert 0 alice && call_ok counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		sim tamper 0 ef0002 >/dev/null &&
		refused tampered counter card.read_info "{$R0,\"pin\":\"1234\"}" &&
		grep -q 'integrity' "$GW/err" && ! grep -q '花子' "$GW/err"
}
check "EF 0002 changed after issue: tampered, and no personal data in the refusal" tampered
card_remove 0

# restart the gateway on the stale CRLs, then with a grace that covers them
restart_with() {
	gw_stop
	sed -i "s|^crls = .*|crls = $1|; s|^crl_grace = .*|crl_grace = $2|" "$GW/hwgwd.conf"
	gw_start
}
restart_with "$CARD_PKI/crl-stale" 0
stale() {
	card_insert 0 alice && refused crl_stale counter card.authenticate "{$R0,\"pin\":\"1234\"}" &&
		grep -q 'nextUpdate\|stale\|CRL' "$GW/err"
}
check "CRL past its nextUpdate: crl_stale, PIN never sent" stale
restart_with "$CARD_PKI/crl-stale" 2592000
check "the same CRL within [card] crl_grace (30 days): accepted" \
	call_ok counter card.authenticate "{$R0,\"pin\":\"1234\"}"

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
