#!/bin/sh
# test_cert_client.sh — certificates' keys and roles in a running gateway:
# gw.info gives the seal key scripts/hsm-init made, `hwgwctl cert seal-key`
# keeps it from the verified answer, and a gateway whose token has no seal
# key starts and says none; a registry client may be registered and every
# request it signs is refused forbidden; supervisor is no client's role.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
gw_setup || exit 1
gw_client station issuance "$(id -u)"
check "a registry client is registered" gw_client registry registry "$(id -u)"
"$HWGWCTL" keygen --out "$GW/keys/boss" >/dev/null
check "supervisor is no client's role" sh -c "! '$HWGWCTL' client add --config '$GW/hwgwd.conf' \
	--id boss --role supervisor --pubkey '$GW/keys/boss.pub' 2>'$GW/boss.err' &&
	grep -q 'one of counter, issuance, admin, auditor, maintenance, registry' '$GW/boss.err'"
gw_start || exit 1

der() { openssl pkey -pubin -in "$1" -outform DER | od -An -tx1 | tr -d ' \n'; }
gw_call station gw.info --socket "$GW/hwgw.sock" >"$GW/gw-info.json"
check "gw.info carries seal_key" grep -q '"seal_key": "hex:' "$GW/gw-info.json"
check "cert seal-key keeps it from gw.info's verified answer" \
	sh -c "'$HWGWCTL' cert seal-key --out '$GW/seal.pem' <'$GW/gw-info.json' >'$GW/seal.out'"
check "it is the seal key hsm-init made" \
	test "$(der "$GW/seal.pem")" = "$(der "$GW/hsm/gateway-seal.pub.pem")"
check "and neither the response nor the audit key" \
	sh -c "test '$(der "$GW/seal.pem")' != '$(der "$GW/hsm/gateway-response.pub.pem")' &&
	       test '$(der "$GW/seal.pem")' != '$(der "$GW/hsm/gateway-audit.pub.pem")'"
check "its fingerprint is printed" grep -q 'SHA-256 of its DER: [0-9a-f]\{64\}' "$GW/seal.out"
registry_refused() { # registry_refused TRANSPORT-OPTIONS...: refused forbidden, its role named
	! gw_call registry "$@" 2>"$GW/reg.err" >/dev/null &&
		grep -q 'error: forbidden: role registry may not call' "$GW/reg.err"
}
check "a registry's request is refused forbidden" registry_refused gw.info --socket "$GW/hwgw.sock"
check "any operation, over HTTP too" registry_refused request.status --url "$GW_URL" \
	--args-json "{\"req\":\"hex:$(printf '%064d' 0)\"}"
gw_stop

# a token without the seal key named: hwgwd starts, gw.info has no seal_key
printf '[hsm]\nseal_key = no-such-seal\n' >>"$GW/hwgwd.conf"
gw_start || exit 1
check "the keyholder says it found no seal key" grep -q 'keyholder.ready.*seal_key=no' "$GW/hwgwd.log"
gw_call station gw.info --socket "$GW/hwgw.sock" >"$GW/gw-info2.json"
check "gw.info without seal_key" sh -c "! grep -q seal_key '$GW/gw-info2.json'"
check "cert seal-key refuses an answer without one" sh -c \
	"! '$HWGWCTL' cert seal-key --out '$GW/none.pem' --from '$GW/gw-info2.json' 2>/dev/null"
gw_stop
sh_test_end
