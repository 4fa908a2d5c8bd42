# tests/lib/veincheck.sh — assertions for the palm-vein gateway tests
# (test_vein_ops.sh, test_vein_sessions.sh), which drive a real hwgwd
# through hwgwctl while hwsim plays the terminals.  Source it after
# gwenv.sh, veinenv.sh and sh_test.sh, then:
#   vein_test_start CLIENT:ROLE...   gw_setup, vein_setup (its variables
#                       apply), those clients (with our uid), hwgwd running
#   vcall CLIENT OP ARGS_JSON [hwgwctl options]   like vein_call, with the
#                       arguments in a file of the client's own (calls of
#                       two clients may overlap) and CLIENT's session unless
#                       inside without_session
#   call_ok CLIENT OP ARGS_JSON [options]   succeeds; the result on one line
#                       in $GW/out
#   refused CODE CLIENT OP ARGS_JSON [options]   refused with CODE, and the
#                       audit holds exactly one record of that request, with
#                       that code; the record is in $GW/rec
#   bg_verify CLIENT OPERATOR [TERMINAL] / bg_refused CODE   an
#                       operator.verify left waiting for a palm, and its end
#   entry ID / failures_of ID   operator ID's entry in the last operator.list
# Every refusal is counted (VEIN_REFUSALS) so that a script can check at
# the end that the audit holds no refusal it did not ask for.

VEIN_REFUSALS=0
T0=PV-SIM-0001

vein_test_start() {
	gw_setup || return 1
	trap vein_test_cleanup EXIT
	vein_setup || return 1
	for _cr in "$@"; do
		gw_client "${_cr%%:*}" "${_cr#*:}" "$(id -u)" || return 1
	done
	gw_start
}

vein_test_cleanup() {
	_exit_status=$?
	gw_stop || true
	vein_sim_stop
	if [ "$SH_FAILED" -ne 0 ] || [ -n "${HWG_KEEP:-}" ]; then
		echo "--- trace" >&2
		cat "$GW/trace" >&2 2>/dev/null
		for _f in hwgwd.log vein-sim.log; do
			echo "--- $_f (last 40 lines)" >&2
			tail -n 40 "$GW/$_f" >&2 2>/dev/null || true
		done
	fi
	gw_cleanup "$_exit_status"
}

db() {
	sqlite3 -cmd '.timeout 5000' "$GW/state/hwgw.db" "$@"
}

now_ms() {
	date +%s%3N
}

# operator.verify's and operator.enroll's arguments
va() {
	printf '{"terminal":"%s","operator_id":"%s"}' "${2:-$T0}" "$1"
}
ea() { # ea OPERATOR ROLE [VALID_UNTIL_MS]
	printf '{"terminal":"%s","operator_id":"%s","role":"%s","valid_until":%s}' "$T0" "$1" "$2" \
		"${3:-$(($(now_ms) + 2592000000))}"
}

without_session() {
	_nosess=1
	"$@"
	_rc=$?
	_nosess=
	return $_rc
}

vcall() {
	_c=$1 _op=$2
	printf '%s' "$3" >"$GW/args.$_c.json"
	shift 3
	if [ -z "${_nosess:-}" ] && [ -f "$GW/sessions/$_c" ]; then
		set -- --session-file "$GW/sessions/$_c" "$@"
	fi
	gw_call "$_c" "$_op" --socket "$GW/hwgw.sock" --args-file "$GW/args.$_c.json" "$@"
}

# one line of the last result, without the pretty-printer's white space
flatten() {
	sed 's/^ *//; s/": /":/' "$1" | tr -d '\n' >"$GW/out"
}

call_ok() {
	vcall "$@" >"$GW/out.json" 2>"$GW/err"
	_rc=$?
	echo "$(now_ms) call_ok $1 $2: rc=$_rc $(head -c 300 "$GW/err")" >>"$GW/trace"
	[ $_rc -eq 0 ] && flatten "$GW/out.json"
}

has() {
	grep -qF -- "$1" "$GW/out"
}

audit_seq() {
	db "SELECT coalesce(max(seq), 0) FROM audit"
}

# audited_once MARK CODE CLIENT OP: CLIENT's records of OP after seq MARK
# are exactly one, with result CODE; it goes to $GW/rec as
# operator|subject|result|detail
audited_once() {
	db "SELECT operator_id, subject, result, detail FROM audit WHERE seq > $1 AND
	    client = '$3' AND operation = '$4'" >"$GW/rec"
	echo "  audit: $(cat "$GW/rec")" >>"$GW/trace"
	[ "$(wc -l <"$GW/rec")" -eq 1 ] && [ "$(cut -d'|' -f3 "$GW/rec")" = "$2" ]
}

refused() {
	_code=$1
	shift
	_mark=$(audit_seq)
	vcall "$@" >"$GW/out.json" 2>"$GW/err"
	_rc=$?
	echo "refused? $_code $1 $2: rc=$_rc $(head -c 300 "$GW/err")" >>"$GW/trace"
	[ $_rc -ne 0 ] || return 1
	VEIN_REFUSALS=$((VEIN_REFUSALS + 1))
	grep -q "^error: $_code: " "$GW/err" && audited_once "$_mark" "$_code" "$1" "$2"
}

# rec_operator ID: the last refusal's record names operator ID
rec_operator() {
	[ "$(cut -d'|' -f1 "$GW/rec")" = "$1" ]
}

err_has() {
	grep -qF -- "$1" "$GW/err"
}

# ---- a verification left waiting for a palm, for cancel and unplug tests

bg_verify() {
	BG_CLIENT=$1
	BG_MARK=$(audit_seq)
	BG_T0=$(now_ms)
	vcall "$1" operator.verify "$(va "$2" "${3:-$T0}")" >"$GW/bg.out" 2>"$GW/bg.err" &
	BG_PID=$!
}

# wait_terminal INDEX STATE: `vein list` shows terminal INDEX ending in
# STATE ("capturing", "plugged:idle"...), at most 5 s
wait_terminal() {
	i=0
	until vein list | grep -Eq "(^| )$1=[^ ]*:$2( |\$)"; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.05
	done
}

# wait_capturing INDEX: the terminal has the gateway's CAPTURE
wait_capturing() {
	wait_terminal "$1" capturing
}

bg_refused() {
	wait "$BG_PID"
	_rc=$?
	BG_MS=$(($(now_ms) - BG_T0))
	echo "bg refused? $1 $BG_CLIENT: rc=$_rc ${BG_MS}ms $(head -c 300 "$GW/bg.err")" >>"$GW/trace"
	[ $_rc -ne 0 ] || return 1
	VEIN_REFUSALS=$((VEIN_REFUSALS + 1))
	grep -q "^error: $1: " "$GW/bg.err" && audited_once "$BG_MARK" "$1" "$BG_CLIENT" operator.verify
}

# ---- operator.list

entry() {
	tr '{' '\n' <"$GW/out" | grep -F "\"operator_id\":\"$1\","
}

failures_of() {
	entry "$1" | sed -n 's/.*"failures":\([0-9]*\).*/\1/p'
}

# session_ended OPERATOR REASON: the sweep's operator.session_end record for
# OPERATOR gives REASON (waits for it, at most 8 s)
session_ended() {
	i=0
	until db "SELECT detail FROM audit WHERE operation = 'operator.session_end' AND
	          operator_id = '$1'" | grep -q "^reason=$2 "; do
		i=$((i + 1))
		[ $i -le 80 ] || return 1
		sleep 0.1
	done
}

# wait_until MS: now is past MS (at most 10 s)
wait_until() {
	i=0
	while [ "$(now_ms)" -le "$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
}
