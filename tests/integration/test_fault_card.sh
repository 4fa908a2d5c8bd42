#!/bin/sh
# test_fault_card.sh — issue 5's fault matrix for the card operations
# (card.status, card.read_info, card.authenticate, card.sign) through a
# real hwgwd, pcscd and hwsim's card.  hwsim holds the card's answer to APDU k
# (fault hold-at) so that each fault strikes while the gateway waits at
# that step, for every k:
#   - hwgwd SIGKILLed: the client gets no answer, the request's nonce is
#     spent (so the same envelope sent again is a replay, which test_api
#     refuses: no operation runs twice), no audit record;
#     the restarted gateway serves the same operation;
#   - pcscd SIGKILLed: a clear pcsc_unavailable or card_removed, audited
#     once; the restarted pcscd's card is served without restarting hwgwd.
# And at the two store steps (gateway/README.md: the nonce's transaction
# before the card is touched, the audit record's after), held by another
# SQLite connection's exclusive lock:
#   - SIGKILL at the nonce step: nothing spent, nothing sent to the card;
#   - SIGKILL at the audit step: the card work done, its result never
#     released, the nonce spent, no record;
#   - the disk full at the nonce step: audit_unavailable, card untouched;
#   - the disk full at the audit step: audit_unavailable, the result withheld;
#   - the HSM token gone while the card works: no response (nothing
#     unsigned leaves), its record and a gateway.response_withheld record
#     (hsm_unavailable); the token back, served again.
# At the end the audit chain verifies and no PIN try was lost.
# FAULT_APDU_STEP=N strikes at every Nth APDU only (1, 1+N, ...): make
# memcheck (5) and make check-sanitize (2) set it, where each restart of
# hwgwd is slow.
# The state directory is a small tmpfs in the test's mount namespace.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/faultenv.sh"
card_enter "$@"
fault_small_state 8m
card_start counter:counter issuance:issuance auditor:auditor --insert alice || exit 1
R0='"reader":"hwsim 00 00"'
ZERO=$(printf '%064d' 0)
READ_ARGS="{$R0,\"pin\":\"1234\"}"
SIGN_ARGS="{$R0,\"password\":\"ABC123\",\"digest\":\"hex:$ZERO\"}"

trace() { echo "$(date +%s%3N) $*" >>"$GW/trace"; }

# bg CLIENT OP ARGS: the request left running; its answer in bg.out/bg.err
bg() {
	BG_MARK=$(audit_seq)
	BG_T0=$(date +%s%3N)
	BG_NONCES=$(n_nonces "$1" "$BG_T0")
	printf '%s' "$3" >"$GW/args.bg.json"
	gw_call "$1" "$2" --socket "$GW/hwgw.sock" --session-file "$GW/sessions/$1" \
		--args-file "$GW/args.bg.json" >"$GW/bg.out" 2>"$GW/bg.err" &
	BG_PID=$!
}
bg_end() {
	wait "$BG_PID"
	BG_RC=$?
	trace "bg: rc=$BG_RC $(head -c 300 "$GW/bg.err")"
}
# no answer reached the client (the connection closed), and no audit record
unanswered() { # CLIENT OP
	[ "$BG_RC" -ne 0 ] && ! grep -q '^error: [a-z_]*: ' "$GW/bg.err" &&
		[ "$(n_records "$BG_MARK" "$1" "$2")" -eq 0 ]
}
nonce_spent() { [ "$(n_nonces "$1" "$BG_T0")" -eq $((BG_NONCES + 1)) ]; }
nonce_unspent() { [ "$(n_nonces "$1" "$BG_T0")" -eq "$BG_NONCES" ]; }

# the card's answer to APDU K of the next request held; wait_held: it is
held_at() { sim fault 0 hold-at "$1" >/dev/null; }
wait_held() {
	i=0
	until [ "$(sim held 0)" = "ok yes" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.05
	done
}

restart_gw() {
	gw_start || { trace "restart: hwgwd did not start"; return 1; }
	card_wait 0 yes
}
pcscd_kill() {
	kill -KILL "$PCSCD_PID" && wait "$PCSCD_PID" 2>/dev/null
	PCSCD_PID=
	rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
}
# pcscd back, and hwsim's card seen again through it
pcscd_back() {
	pcscd_start || return 1
	i=0
	until call_ok counter card.status "{$R0}" && has '"present":true'; do
		i=$((i + 1))
		[ $i -le 100 ] || { trace "pcscd back: the card not seen in 20 s"; return 1; }
		sleep 0.2
	done
}

# ------------------------------------------------------------ per APDU

# killed_at K CLIENT OP ARGS: hwgwd SIGKILLed while APDU K waits
killed_at() {
	held_at "$1" && bg "$2" "$3" "$4" && wait_held || return 1
	kill_gw
	sim release 0 >/dev/null
	bg_end
	unanswered "$2" "$3" && nonce_spent "$2" && restart_gw && call_ok "$2" "$3" "$4"
}

# pcscd_at K CLIENT OP ARGS: pcscd SIGKILLed while APDU K waits
pcscd_at() {
	held_at "$1" && bg "$2" "$3" "$4" && wait_held || return 1
	pcscd_kill
	sim release 0 >/dev/null
	bg_end
	_code=$(sed -n 's/^error: \([a-z_]*\): .*/\1/p' "$GW/bg.err")
	trace "pcscd killed at APDU $1 of $3: answer '$_code', records $(n_records "$BG_MARK" "$2" "$3")"
	case $_code in pcsc_unavailable | card_removed) ;; *) return 1 ;; esac
	[ "$(n_records "$BG_MARK" "$2" "$3" "$_code")" -eq 1 ] &&
		[ "$(n_records "$BG_MARK" "$2" "$3")" -eq 1 ] && pcscd_back && call_ok "$2" "$3" "$4"
}

# every_step OP CLIENT ARGS: the APDUs of OP on a card already identified,
# as each fault's request meets it (the call that ends each step leaves
# the card identified)
every_step() {
	_op=$1 _client=$2 _args=$3
	if ! call_ok "$_client" "$_op" "$_args" || ! sim apdus-clear 0 >/dev/null ||
		! call_ok "$_client" "$_op" "$_args"; then
		check "$_op succeeds before any fault" false
		return 1
	fi
	_n=$(apdu_count 0)
	LAST_APDU=$_n
	echo "# $_op: $_n APDUs"
	[ "$_n" -gt 0 ] || return 1
	for k in $(seq 1 "${FAULT_APDU_STEP:-1}" "$_n"); do
		check "$_op: hwgwd SIGKILLed at APDU $k of $_n: no answer, nonce spent, no record; served after restart" \
			killed_at "$k" "$_client" "$_op" "$_args"
		check "$_op: pcscd SIGKILLed at APDU $k of $_n: pcsc_unavailable or card_removed, audited once; served once pcscd is back" \
			pcscd_at "$k" "$_client" "$_op" "$_args"
	done
}

# ------------------------------------------------------------ store steps

killed_at_nonce() { # CLIENT OP ARGS
	sim apdus-clear 0 >/dev/null
	lock_store && bg "$@" && sleep 0.5 && bg_running || return 1
	kill_gw
	unlock_store
	bg_end
	unanswered "$1" "$2" && nonce_unspent "$1" && [ "$(apdu_count 0)" -eq 0 ] &&
		restart_gw && call_ok "$@"
}

killed_at_audit() { # CLIENT OP ARGS
	held_at "$LAST_APDU" && bg "$@" && wait_held || return 1
	lock_store || return 1
	sim release 0 >/dev/null
	# the card has answered; the gateway now waits for the store
	sleep 0.5
	bg_running || { unlock_store; return 1; }
	kill_gw
	unlock_store
	bg_end
	unanswered "$1" "$2" && nonce_spent "$1" && restart_gw && call_ok "$@"
}

# fill the disk, then use up the room SQLite's files still have
fill_disk() {
	dd if=/dev/zero of="$MNT/filler" bs=4k >/dev/null 2>&1
	i=0
	while gw_call auditor gw.info --socket "$GW/hwgw.sock" >/dev/null 2>"$GW/err.fill"; do
		i=$((i + 1))
		[ $i -le 300 ] || return 1
	done
	grep -q '^error: audit_unavailable: ' "$GW/err.fill"
}

full_at_nonce() { # CLIENT OP ARGS
	sim apdus-clear 0 >/dev/null
	fill_disk || return 1
	_mark=$(audit_seq) _t0=$(date +%s%3N)
	refused audit_unavailable "$@"
	_r=$?
	rm -f "$MNT/filler"
	[ $_r -eq 0 ] && [ "$(apdu_count 0)" -eq 0 ] && [ "$(n_nonces "$1" "$_t0")" -eq 0 ] &&
		[ "$(audit_seq)" -eq "$_mark" ] && call_ok "$@"
}

full_at_audit() { # CLIENT OP ARGS
	held_at "$LAST_APDU" && bg "$@" && wait_held || return 1
	fill_disk
	_r=$?
	sim release 0 >/dev/null
	bg_end
	rm -f "$MNT/filler"
	[ $_r -eq 0 ] && [ "$BG_RC" -ne 0 ] && grep -q '^error: audit_unavailable: .*withheld' "$GW/bg.err" &&
		[ ! -s "$GW/bg.out" ] && [ "$(n_records "$BG_MARK" "$1" "$2")" -eq 0 ] && call_ok "$@"
}

TOKENS="$GW/hsm/tokens"
hsm_gone() { # CLIENT OP ARGS
	held_at 1 && bg "$@" && wait_held || return 1
	mv "$TOKENS" "$TOKENS.away"
	sim release 0 >/dev/null
	bg_end
	mv "$TOKENS.away" "$TOKENS"
	# the card work ran (its record: ok), its answer could not be signed and
	# never left: one gateway.response_withheld record says so
	[ "$BG_RC" -ne 0 ] && grep -q 'no response: the gateway closed the connection' "$GW/bg.err" &&
		[ "$(n_records "$BG_MARK" "$1" "$2" ok)" -eq 1 ] &&
		[ "$(n_records "$BG_MARK" "$1" "$2")" -eq 1 ] &&
		[ "$(n_records "$BG_MARK" "$1" gateway.response_withheld hsm_unavailable)" -eq 1 ] &&
		[ "$(db "SELECT detail FROM audit WHERE seq > $BG_MARK AND
		     operation = 'gateway.response_withheld'")" = "op=$2 answer=ok" ] && call_ok "$@"
}

store_steps() { # OP CLIENT ARGS
	check "$1: hwgwd SIGKILLed at the nonce step: no answer, nothing spent, card untouched; served after restart" \
		killed_at_nonce "$2" "$1" "$3"
	check "$1: hwgwd SIGKILLed at the audit step: no answer, nonce spent, no record; served after restart" \
		killed_at_audit "$2" "$1" "$3"
	check "$1: disk full at the nonce step: audit_unavailable, card untouched, nothing spent; served with room" \
		full_at_nonce "$2" "$1" "$3"
	check "$1: disk full at the audit step: audit_unavailable, result withheld, no record; served with room" \
		full_at_audit "$2" "$1" "$3"
	check "$1: HSM token gone while the card works: no response, audited as withheld; served once back" \
		hsm_gone "$2" "$1" "$3"
}

LAST_APDU=0
STATUS_ARGS="{$R0}"
every_step card.status counter "$STATUS_ARGS" && store_steps card.status counter "$STATUS_ARGS"
every_step card.read_info counter "$READ_ARGS" && store_steps card.read_info counter "$READ_ARGS"
every_step card.authenticate counter "$READ_ARGS" &&
	store_steps card.authenticate counter "$READ_ARGS"
every_step card.sign issuance "$SIGN_ARGS" && store_steps card.sign issuance "$SIGN_ARGS"

untouched() { call_ok counter card.status "{$R0}" && has '"tries":{"auth":3,"support":3,"sign":5}'; }
check "no PIN try was lost to any fault" untouched
check "the audit chain verifies" audit_ok
umount "$MNT" 2>/dev/null

[ $SH_FAILED -eq 0 ] || CARD_FAILED=1
sh_test_end
