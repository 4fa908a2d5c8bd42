# tests/lib/certenv.sh — a real hwgwd issuing certificates: hwsim's
# palm-vein terminal and certificate printer on one umockdev bus
# (veinenv.sh, printenv.sh), operators logged in on the stations, a
# registry client whose key signs the documents (make_certdoc), and
# helpers around cert.issue.  Source it after gwenv.sh and sh_test.sh, then:
#   cert_test_start     gw_setup, hwsim (terminal $VEIN_TERMINAL, printer
#                       $PRINTER_SERIAL), [cert] [printer] [vein] [operator]
#                       settings, the clients below, hwgwd running, the
#                       first admin and the operators' sessions, the printer
#                       listed ready
#   clients (our uid): admin, admin2 (admin); station (issuance, operator
#   op.issuer of role issuance); boss (issuance, operator sup.1 of role
#   supervisor); clerk (issuance, operator op.clerk of role counter);
#   counter (counter); auditor (auditor); registry (registry: signs
#   documents, may call nothing)
#   certdoc CASE [SUBJECT]   the signed document as hex (make_certdoc's CASEs)
#   issue_args CASE SUBJECT REQUEST_ID   cert.issue's arguments (JSON)
#   issue CLIENT CASE SUBJECT REQUEST_ID   cert.issue; the result in $GW/out
#                       (one line), its number in $NO (call_ok's rules)
#   field NAME          a text or number field of $GW/out
#   jstate NO           the issuance's state in the journal (read-only)
#   wait_jstate NO STATE [TENTHS]   until the journal says STATE (5 s)
#   n_issuances         rows in the journal
#   n_spooled           PDFs in the printer's spool folder
#   spooled NO          the spool holds exactly NO.pdf for NO (no NO+2.pdf)
#   renderer_pid, keyholder_pid   hwgwd's children
#   kill_gw             SIGKILL hwgwd and reap it; its stopped children too
#   status CLIENT NO    cert.status into $GW/out
#   history_n SUBJECT   how many issuances the auditor's cert.history lists
#   unchanged_after CMD...   CMD leaves the journal, the spool and the
#                       printer's jobs as they were
#   bg_issue CLIENT CASE SUBJECT REQUEST_ID / bg_end   a cert.issue left
#                       running ($BG_PID; $GW/bg.out, $GW/bg.err; BG_RC)
#   recovered NO WAS NOW   one cert.recovered record "issuance=NO WAS -> NOW"
# and veincheck.sh's call_ok, refused, has, db, audit_seq, audited_once.

. "$HWG_SOURCE_DIR/tests/lib/printenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/veincheck.sh"
MAKE_CERTDOC="$HWG_BUILD_DIR/tests/make_certdoc"
CERT_CITY=架空市
CERT_MAYOR="架空 太郎"

cert_test_start() {
	gw_setup || return 1
	trap cert_test_cleanup EXIT
	VEIN_SERIALS=$VEIN_TERMINAL printer_sim_start "$PRINTER_SERIAL CP-200" || return 1
	GW_WRAP="env LD_PRELOAD=$(vein_preload) ASAN_OPTIONS=$(vein_asan) UMOCKDEV_DIR=$UMOCKDEV_DIR"
	mkdir -m 0700 -p "$GW/sessions"
	cat >>"$GW/hwgwd.conf" <<CONF
[vein]
capture_timeout_ms = 3000
[operator]
session_idle_s = 3600
session_max_s = 28800
[cert]
enabled = yes
city = $CERT_CITY
mayor = $CERT_MAYOR
render_timeout_ms = ${CERT_RENDER_TIMEOUT_MS:-20000}
job_timeout_ms = ${CERT_JOB_TIMEOUT_MS:-30000}
[printer]
enabled = yes
scan_interval_ms = 200
command_timeout_ms = 2000
CONF
	for _cr in admin:admin admin2:admin station:issuance boss:issuance clerk:issuance \
		counter:counter auditor:auditor registry:registry; do
		gw_client "${_cr%%:*}" "${_cr#*:}" "$(id -u)" || return 1
	done
	gw_start || return 1
	operator_bootstrap || { echo "operator bootstrap failed" >&2; return 1; }
	operator_login station op.issuer issuance &&
		operator_login boss sup.1 supervisor &&
		operator_login clerk op.clerk counter || { echo "operator login failed" >&2; return 1; }
	wait_printer ready
}

cert_test_cleanup() {
	_exit_status=$?
	for _p in ${CERT_STOPPED:-}; do kill -KILL "$_p" 2>/dev/null; done
	gw_stop || true
	vein_sim_stop
	if [ "$SH_FAILED" -ne 0 ] || [ -n "${HWG_KEEP:-}" ]; then
		echo "--- trace" >&2
		tail -n 60 "$GW/trace" >&2 2>/dev/null
		for _f in hwgwd.log vein-sim.log; do
			echo "--- $_f (last 40 lines)" >&2
			tail -n 40 "$GW/$_f" >&2 2>/dev/null || true
		done
	fi
	gw_cleanup "$_exit_status"
}

# wait_printer STATE: device.list shows the printer in STATE (5 s)
wait_printer() {
	i=0
	until call_ok counter device.list '{}' &&
		has "{\"class\":\"printer\",\"id\":\"$PRINTER_SERIAL\",\"state\":\"$1\""; do
		i=$((i + 1))
		[ $i -le 50 ] || { echo "printer not $1: $(cat "$GW/out")" >&2; return 1; }
		sleep 0.1
	done
}

certdoc() {
	"$MAKE_CERTDOC" doc "$1" --key "$GW/keys/registry.key" --kid registry --gateway "$GW_ID" \
		--subject "${2:-10000000001}"
}

issue_args() {
	printf '{"document":"hex:%s","request_id":"%s"}' "$(certdoc "$1" "$2")" "$3"
}

field() {
	sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$GW/out"
}

issue() {
	_ia=$(issue_args "$2" "$3" "$4") || return 1
	NO=
	call_ok "$1" cert.issue "$_ia" && NO=$(field issuance_no) && [ -n "$NO" ]
}

jstate() {
	sqlite3 -readonly -cmd '.timeout 2000' "$GW/state/hwgw.db" \
		"SELECT state FROM issuances WHERE issuance_no = '$1'"
}

wait_jstate() {
	i=0
	until [ "$(jstate "$1")" = "$2" ]; do
		i=$((i + 1))
		[ $i -le "${3:-50}" ] || { echo "issuance $1 is $(jstate "$1"), not $2" >&2; return 1; }
		sleep 0.1
	done
}

n_issuances() {
	sqlite3 -readonly -cmd '.timeout 2000' "$GW/state/hwgw.db" "SELECT count(*) FROM issuances"
}

n_spooled() {
	find "$PRINT_SPOOL" -maxdepth 1 -name '*.pdf' | wc -l
}

spooled() {
	[ -f "$PRINT_SPOOL/$1.pdf" ] && [ -z "$(find "$PRINT_SPOOL" -maxdepth 1 -name "$1+*")" ]
}

# the child of hwgwd running the program $1 (fails if there is none)
gw_child() {
	_found=
	for _c in $(cat "/proc/$GW_PID/task/"*/children 2>/dev/null); do
		[ "$(cat "/proc/$_c/comm" 2>/dev/null)" != "$1" ] || _found="$_found $_c"
	done
	[ -n "$_found" ] && echo $_found
}
renderer_pid() { gw_child hwgw-renderer; }
keyholder_pid() { gw_child hwgw-keyholder; }

kill_gw() {
	_kids=$(cat "/proc/$GW_PID/task/"*/children 2>/dev/null)
	echo "$(now_ms) kill $GW_PID (children $_kids)" >>"$GW/trace"
	kill -KILL "$GW_PID" && wait "$GW_PID" 2>/dev/null
	GW_PID=
	# a child the test stopped cannot see its link close: end it too
	for _c in $_kids; do
		[ "$(cut -d' ' -f3 "/proc/$_c/stat" 2>/dev/null)" = T ] && kill -KILL "$_c" 2>/dev/null
	done
	# the others end when their link closes; wait for them (the keyholder holds the token)
	i=0
	for _c in $_kids; do
		while [ -e "/proc/$_c" ] && [ "$(cut -d' ' -f3 "/proc/$_c/stat" 2>/dev/null)" != Z ]; do
			i=$((i + 1))
			[ $i -le 100 ] || { kill -KILL "$_c" 2>/dev/null; break; }
			sleep 0.05
		done
	done
	CERT_STOPPED=
}

status() {
	call_ok "$1" cert.status "{\"issuance_no\":\"$2\"}"
}

history_n() {
	call_ok auditor cert.history "{\"resident_code\":\"$1\"}" &&
		grep -o '"issuance_no"' "$GW/out" | wc -l
}

printer_jobs() {
	printer jobs "$PRINTER_SERIAL"
}

unchanged_after() {
	_j=$(n_issuances) _s=$(n_spooled) _p=$(printer_jobs)
	"$@" || return 1
	[ "$(n_issuances)" = "$_j" ] && [ "$(n_spooled)" = "$_s" ] && [ "$(printer_jobs)" = "$_p" ] ||
		{ echo "changed: journal $_j -> $(n_issuances), spool $_s -> $(n_spooled)" >&2; return 1; }
}

# the issuance number an error names ("issuance N failed ..." / "... held unconfirmed")
err_no() {
	sed -n 's/.*issuance \([A-Za-z0-9-]*-[0-9]\{8\}-[0-9]\{6,\}\).*/\1/p' "$1" | head -n 1
}

bg_issue() {
	issue_args "$2" "$3" "$4" >"$GW/bg.args.json" || return 1
	BG_MARK=$(audit_seq)
	gw_call "$1" cert.issue --socket "$GW/hwgw.sock" --args-file "$GW/bg.args.json" \
		--session-file "$GW/sessions/$1" >"$GW/bg.out" 2>"$GW/bg.err" &
	BG_PID=$!
}

bg_end() {
	wait "$BG_PID"
	BG_RC=$?
	echo "$(now_ms) bg ended rc=$BG_RC $(head -c 300 "$GW/bg.err")" >>"$GW/trace"
}

# the newest issuance in the journal
newest_no() {
	sqlite3 -readonly -cmd '.timeout 2000' "$GW/state/hwgw.db" \
		"SELECT issuance_no FROM issuances ORDER BY seq DESC LIMIT 1"
}

recovered() {
	[ "$(db "SELECT count(*) FROM audit WHERE operation = 'cert.recovered' AND
	         detail LIKE 'issuance=$1 $2 -> $3%'")" = 1 ]
}

# pdftotext of a spooled PDF (content order, as test_render reads it)
page_text() {
	pdftotext -q -raw -enc UTF-8 "$PRINT_SPOOL/$1.pdf" "$GW/$1.txt"
}
