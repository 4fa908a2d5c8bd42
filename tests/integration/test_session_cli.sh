#!/bin/sh
# test_session_cli.sh — `hwgwctl call --session-file` and `--session-out`
# against a real hwgwd: a token in a file (hex, "hex:", raw bytes, or
# standard input) reaches the gateway (an unknown one is refused as
# session_required; one the store knows is accepted, its operator is
# audited and operator.logout ends it); files that hold no token are
# refused before anything is sent; --session-out is for operator.verify
# only and writes nothing when verification is refused.  The operator and
# session are put in the store directly, as operator.verify would (it
# needs a terminal: the vein integration tests drive it).
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
gw_setup || exit 1
gw_client counter counter
gw_start || exit 1
call() { gw_call counter --url "$GW_URL" "$@"; }
refused_with() { # refused_with EXIT PATTERN command...
	_exit=$1 _pat=$2
	shift 2
	"$@" >"$GW/out" 2>"$GW/err"
	[ $? -eq "$_exit" ] && grep -Eq -- "$_pat" "$GW/err"
}

umask 077
tok=$(openssl rand -hex 32)
printf '%s\n' "$tok" >"$GW/unknown.hex"
check "an unknown token is sent and refused" \
	refused_with 1 "session_required: unknown operator session" \
	call gw.info --session-file "$GW/unknown.hex"
printf 'hex:%s' "$tok" >"$GW/unknown.prefixed"
check "hex: form accepted" refused_with 1 "session_required" \
	call gw.info --session-file "$GW/unknown.prefixed"
check "raw bytes accepted" sh -c "printf '%s' '$tok' | xxd -r -p >'$GW/unknown.raw'"
check "raw token sent" refused_with 1 "session_required" \
	call gw.info --session-file "$GW/unknown.raw"
check "token from standard input" sh -c \
	"'$HWGWCTL' call --client counter --key '$GW/keys/counter.key' --gateway-id '$GW_ID' \
	 --gateway-pubkey '$GW/hsm/gateway-response.pub.pem' --url '$GW_URL' gw.info \
	 --session-file - <'$GW/unknown.hex' 2>&1 | grep -q session_required"

printf 'short' >"$GW/short"
check "a file too short is refused before sending" refused_with 2 "16 to 64" \
	call gw.info --session-file "$GW/short"
check "a missing file is refused" refused_with 2 "session-file" \
	call gw.info --session-file "$GW/none"
check "--session-out only for operator.verify" refused_with 2 "operator.verify only" \
	call gw.info --session-out "$GW/sess"

# a live session, as operator.verify leaves it in the store
now=$(($(date +%s) * 1000))
hash=$(printf '%s' "$tok" | xxd -r -p | openssl dgst -sha256 -hex | sed 's/.*= //')
sqlite3 -cmd '.timeout 5000' "$GW/state/hwgw.db" "
	INSERT INTO operators (id, role, state, valid_until_ms, enrolled_by_client,
	  enrolled_by_operator, confirmed_by, created_ms, template)
	  VALUES ('cli.op', 'counter', 'active', $now + 86400000, 'admin-1', '', '', $now, x'00');
	INSERT INTO operator_sessions VALUES (x'$hash', 'cli.op', 'counter', 'PV-1', $now, $now,
	  $now + 3600000);" 2>"$GW/sqlite.err"
check "session inserted" test ! -s "$GW/sqlite.err"
check "a live session is accepted" call gw.info --session-file "$GW/unknown.hex"
check "its operator is audited" sh -c "sqlite3 '$GW/state/hwgw.db' \
	\"SELECT operator_id FROM audit WHERE operation = 'gw.info' ORDER BY seq DESC LIMIT 1\" |
	grep -qx cli.op"
check "logout with it" sh -c "'$HWGWCTL' call --client counter --key '$GW/keys/counter.key' \
	--gateway-id '$GW_ID' --gateway-pubkey '$GW/hsm/gateway-response.pub.pem' \
	--url '$GW_URL' operator.logout --session-file '$GW/unknown.raw' | grep -q logged_out"
check "then it is gone" refused_with 1 "session_required: the operator session was logged out" \
	call gw.info --session-file "$GW/unknown.hex"

check "a refused verification writes no session file" refused_with 1 "unknown_operator" \
	call operator.verify --args-json '{"terminal":"PV-1","operator_id":"ghost"}' \
	--session-out "$GW/sess"
check "no session file" test ! -e "$GW/sess"
check "the token never reached a log" sh -c "! grep -q '$tok' '$GW/hwgwd.log'"
gw_stop
sh_test_end
