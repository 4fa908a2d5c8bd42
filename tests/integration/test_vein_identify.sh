#!/bin/sh
# test_vein_identify.sh — 1:N identification ([vein] identify = yes)
# through hwgwd and the simulated terminal: operator.verify without an
# operator id finds the operator whose palm it is among everyone enrolled
# (the gallery kept current as operators are enrolled and revoked), opens
# that operator's session, and refuses a palm that is nobody's; a revoked
# operator's palm no longer identifies anyone; after a restart the gallery
# is rebuilt from the sealed templates.  With identify = no the operator
# id is required.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
gw_setup || exit 1
trap 'gw_stop; vein_sim_stop; [ -n "${HWG_KEEP:-}" ] || rm -rf "$GW"' EXIT
VEIN_IDENTIFY=yes vein_setup || exit 1
for c in admin:admin admin2:admin counter:counter; do
	gw_client "${c%%:*}" "${c#*:}" "$(id -u)" || exit 1
done
gw_start || exit 1
T="\"terminal\":\"$VEIN_TERMINAL\""

enrol_all() {
	operator_bootstrap && operator_login counter op.a counter &&
		operator_login counter op.b counter && operator_login counter op.c counter
}
check "bootstrap and three clerks enrolled" enrol_all
identified() { # identified PERSON OPERATOR: PERSON's palm opens OPERATOR's session
	rm -f "$GW/sessions/counter"
	vein present 0 "$1" >/dev/null &&
		vein_call counter operator.verify "{$T}" --session-out "$GW/sessions/counter" \
			>"$GW/out" 2>"$GW/err" &&
		grep -q "\"operator_id\": \"$2\"" "$GW/out" && test -s "$GW/sessions/counter"
}
refused_as() { # refused_as CODE PERSON
	rm -f "$GW/sessions/counter"
	vein present 0 "$2" >/dev/null &&
		! vein_call counter operator.verify "{$T}" >"$GW/out" 2>"$GW/err" &&
		grep -q "^error: $1: " "$GW/err"
}
records() { sqlite3 "$GW/state/hwgw.db" "SELECT count(*) FROM audit WHERE $1"; }
B_OK="operation = 'operator.verify' AND operator_id = 'op.b' AND result = 'ok'"
before=$(records "$B_OK")
check "op.b's palm, no operator id: identified as op.b" identified op.b op.b
check "op.a's palm: op.a" identified op.a op.a
check "the session opened by identification works (operator.logout)" \
	vein_call counter operator.logout '{}'
check "a palm nobody enrolled: no_match" refused_as no_match stranger
check "the identification is audited with the operator found" \
	test "$(records "$B_OK")" = $((before + 1))

check "op.c revoked" vein_call admin operator.revoke '{"operator_id":"op.c"}'
check "op.c's palm no longer identifies anyone" refused_as no_match op.c
restart() { gw_stop && gw_start; }
check "restart: the gallery is rebuilt from the sealed templates" restart
check "after the restart op.a's palm still identifies op.a" identified op.a op.a
check "and op.c's still nobody" refused_as no_match op.c

gw_stop
sed -i 's/^identify = yes/identify = no/' "$GW/hwgwd.conf"
gw_start || exit 1
check "identify = no: operator.verify without an id is bad_arguments" refused_as bad_arguments op.a
verify_claimed() {
	vein present 0 op.a >/dev/null && vein_call counter operator.verify "{$T,\"operator_id\":\"op.a\"}"
}
check "with the id it verifies" verify_claimed
sh_test_end
