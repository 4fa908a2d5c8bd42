#!/bin/sh
# test_visit.sh — a resident's visit through hwgw-counter against hwsim's
# card, palm terminal and printer, a real pcscd and hwgwd, and a register
# on SQLite (tests/lib/visitenv.sh): no operator refused at the first card
# step; a whole visit with a wrong PIN then the right one (tries shown);
# the card pulled mid-visit and reinserted; a proxy without a letter and
# a DV-protected member's record refused in neutral words; paper out
# during printing resolved by a supervisor; the gateway killed while a
# certificate prints and the visit resumed from request.status and
# cert.status without a second print.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/visitenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
card_enter "$@"
GW_ID=test-counter-01
VISIT_JOB_TIMEOUT_MS=4000
visit_setup || exit 1
printf '[api]\nmax_age = 2\n' >>"$GW/hwgwd.conf"
gw_stop && gw_start || exit 1
printf '%s\n' "$VISIT_PIN" >"$GW/pin" && printf '9999\n' >"$GW/bad-pin" &&
	chmod 600 "$GW/pin" "$GW/bad-pin"
visit_insert hanako || exit 1

# run STATUS ARGS...: hwgw-counter exits STATUS; its output in $GW/out, $GW/err
run() {
	_want=$1
	shift
	counter "$@" >"$GW/out" 2>"$GW/err"
	_rc=$?
	[ "$_rc" = "$_want" ] || { echo "exit $_rc, wanted $_want"; cat "$GW/out" "$GW/err"; return 1; }
}
out_has() { grep -qF -- "$1" "$GW/out" || { cat "$GW/out" "$GW/err"; return 1; }; }
err_has() { grep -qF -- "$1" "$GW/err" || { cat "$GW/out" "$GW/err"; return 1; }; }
spooled() { ls "$PRINT_SPOOL"/*.pdf 2>/dev/null | wc -l; }

# ---- no operator: refused at the first card step
no_login() { run 1 card && err_has "[session_required]" && err_has "hwgw-counter login"; }
check "card before any login: refused, session_required, told to log in" no_login
json_no_login() { run 1 --json card && out_has '"code": "session_required"' && out_has '"ok": false'; }
check "the same with --json" json_no_login

# ---- login
login() {
	palm tanaka.h && run 0 login && out_has "logged in: tanaka.h (role issuance)" &&
		test "$(stat -c %a "$GW/counter-state/session")" = 600 &&
		! grep -qf "$GW/counter-state/session" "$GW/out" "$GW/err"
}
check "login by palm: a session in a 0600 file, the token never printed" login
check "card: a My Number card, tries 3/3/5, no try spent" \
	sh -c "'$HWGW_COUNTER' --config '$GW/counter.conf' card | grep -q 'card-info PIN        3 tries left'"

# ---- a wrong PIN, then the right one
wrong_pin() { run 1 identify --pin-file "$GW/bad-pin" && err_has "[pin_wrong]" && err_has "PIN tries left: 2"; }
check "identify with a wrong PIN: pin_wrong, 2 tries left shown" wrong_pin
tries_two() { run 0 card && out_has "authentication PIN   2 tries left"; }
check "card shows the try spent" tries_two
right_pin() {
	run 0 identify --pin-file "$GW/pin" && out_has "resident $VISIT_HANAKO" &&
		out_has "若葉　花子" && out_has "個人番号 ************ (masked)" && ! grep -q 537686677188 "$GW/out"
}
check "identify with the right PIN: her record, the My Number masked" right_pin
check "the PIN is in no output and no state file" \
	sh -c "! grep -rq '^$VISIT_PIN\$' '$GW/counter-state' '$GW/out' '$GW/err'"

# ---- the card pulled mid-visit and put back
pulled() { sim fault 0 remove-at 3 >/dev/null && run 1 identify --pin-file "$GW/pin" && err_has "[card_removed]"; }
check "the card pulled during identify: card_removed, told to insert it again" pulled
back() { sim reinsert 0 >/dev/null && card_wait 0 yes && run 0 identify --pin-file "$GW/pin" && out_has "resident $VISIT_HANAKO"; }
check "reinserted: identify succeeds" back

# ---- refusals in words
proxy() {
	run 1 issue juminhyo --subject "$VISIT_KENTA" --requester "代理　人" --relation proxy &&
		err_has "letter of attorney" && [ "$(spooled)" = 0 ]
}
check "a proxy without a letter of attorney: refused, nothing printed" proxy
dv() {
	run 1 issue juminhyo --subject "$VISIT_MISAKI" --requester "若葉　花子" --relation household &&
		err_has "[not_entitled]" && err_has "The person concerned may ask at the counter" &&
		! grep -qi 'dv\|measure\|支援' "$GW/err" && [ "$(spooled)" = 0 ]
}
check "a DV-protected member's record asked by her household: refused neutrally" dv

# ---- a certificate
issue_ok() {
	run 0 issue juminhyo --requester "若葉　花子" --relation self &&
		out_has "1 page(s) confirmed by the printer" && [ "$(spooled)" = 1 ] &&
		[ ! -e "$GW/counter-state/issue" ]
}
check "issue: printed, the page count confirmed, nothing left pending" issue_ok
check "its code verifies with the seal key" \
	"$HWGWCTL" cert verify --pdf "$(ls "$PRINT_SPOOL"/*.pdf | head -n 1)" --key "$GW/hsm/gateway-seal.pub.pem"

# ---- paper out during printing: held, then a supervisor's decision
paper_out() {
	printer paper KM2000417 out-at 1 >/dev/null &&
		run 3 issue juminhyo --requester "若葉　花子" --relation self &&
		err_has "[print_unconfirmed]" && grep -q '^issuance_no=..*' "$GW/counter-state/issue"
}
check "paper runs out during the job: held unconfirmed, the clerk told not to issue again" paper_out
blocked() { run 3 issue juminhyo --requester "若葉　花子" --relation self && err_has "[issuance_pending]"; }
check "a second issue while one is held: refused, status first" blocked
# the gateway reset the printer (what it held must not come out later): nothing comes out
supervised() {
	printer paper KM2000417 in >/dev/null && sleep 1 && [ "$(spooled)" = 1 ] &&
		printer jobs KM2000417 | grep -q ':reset' &&
		palm sato.k && run 0 supervise --supervisor sato.k --outcome not_printed --note "tray empty" &&
		out_has "did not come out; issue again" && [ ! -e "$GW/counter-state/issue" ]
}
check "paper loaded, nothing came out: supervisor sato.k records it not printed" supervised
again() { run 0 issue juminhyo --requester "若葉　花子" --relation self && [ "$(spooled)" = 2 ]; }
check "issued again: printed once" again

# ---- the gateway killed while a certificate prints; resumed without a second print
printer speed KM2000417 3000 >/dev/null
restart() {
	counter issue juminhyo --requester "若葉　花子" --relation self >"$GW/bg.out" 2>"$GW/bg.err" &
	_bg=$!
	_i=0
	until grep -q 'KM2000417' "$GW/hwgwd.log" && printer list | grep -q printing; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || { echo "never printing"; return 1; }
		sleep 0.05
	done
	kill -KILL "$GW_PID" && wait "$GW_PID" 2>/dev/null
	GW_PID=
	wait "$_bg"
	[ $? = 3 ] || { cat "$GW/bg.out" "$GW/bg.err"; return 1; }
	grep -qF "[outcome_unknown]" "$GW/bg.err" || { cat "$GW/bg.err"; return 1; }
	# the sheet comes out meanwhile (3 s a page; longer on a loaded machine)
	_i=0
	until [ "$(spooled)" = 3 ]; do
		_i=$((_i + 1))
		[ $_i -le 300 ] || { echo "the held sheet never came out: $(spooled) spooled"; return 1; }
		sleep 0.1
	done
	GW_NET_RESTARTS_OK=1 gw_start && sleep 2.5 # past the request's t + max_age
}
check "hwgwd killed while the job prints: the clerk is told the outcome is unknown" restart
spooled_is() { [ "$(spooled)" = "$1" ] || { echo "$(spooled) spooled, wanted $1"; return 1; }; }
resumed() {
	run 3 status && err_has "[print_unconfirmed]" && spooled_is 3 &&
		palm sato.k && run 0 supervise --supervisor sato.k --outcome printed &&
		spooled_is 3 && run 0 status && out_has "no certificate is in flight"
}
check "status after the restart: held (not printed again); the supervisor closes it" resumed

# ---- logout
logout() { run 0 logout && out_has "logged out: tanaka.h" && [ ! -e "$GW/counter-state/session" ]; }
check "logout: the session ends at the gateway and the file is gone" logout
after() { run 1 card && err_has "[session_required]"; }
check "after logout the card step is refused again" after
sh_test_end
