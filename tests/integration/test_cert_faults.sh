#!/bin/sh
# test_cert_faults.sh — a certificate printer's and the renderer's faults
# under cert.issue through a real hwgwd and hwsim's printer (issue 14,
# "Done when"): paper out before sending (failed, nothing sent or
# spooled, device.list says paper_out); a jam at page 1 and at page 2 of
# a two-page household copy and the printer vanishing mid-job (each held
# unconfirmed, nothing spooled, the printer's job reset or removed, never
# sent again), each resolved by a supervisor's cert.resolve (an issuance
# operator refused, a second decision wrong_state); the renderer SIGKILLed
# while it holds the render request (render_failed, the issuance failed,
# gateway.renderer_restart audited, the next issuance printed by a new
# renderer).
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/certenv.sh"
cert_test_start || exit 1

# fault CODE CASE SUBJECT RID: cert.issue refused with CODE, audited once;
# $NO the issuance its error names, nothing of it spooled
fault() {
	_s=$(n_spooled)
	refused "$1" station cert.issue "$(issue_args "$2" "$3" "$4")" && cp "$GW/err" "$GW/fault.err" &&
		NO=$(err_no "$GW/err") &&
		[ -n "$NO" ] && grep -q "issuance=$NO " "$GW/rec" && [ "$(n_spooled)" = "$_s" ] &&
		[ ! -e "$PRINT_SPOOL/$NO.pdf" ]
}
# job_of NO: the printer's record of job NO (OUT/PAGES:OUTCOME), exactly one
job_of() {
	[ "$(printer_jobs | tr ' ' '\n' | grep -c "^$1=")" = 1 ] &&
		printer_jobs | tr ' ' '\n' | sed -n "s/^$1=//p"
}
# held NO CODE: unconfirmed in the journal and in cert.status, with why
held() {
	[ "$(jstate "$1")" = unconfirmed ] && status station "$1" && has '"state":"unconfirmed"' &&
		has "\"failure\":{\"code\":\"$2\""
}
resolve() { # resolve CLIENT NO OUTCOME
	call_ok "$1" cert.resolve "{\"issuance_no\":\"$2\",\"outcome\":\"$3\",\"note\":\"確認済み\"}"
}
resolved() { # resolved NO OUTCOME: by sup.1, and cert.status says so
	resolve boss "$1" "$2" && has "\"state\":\"$2\"" && has '"resolved_by":"sup.1"' &&
		status station "$1" && has "\"state\":\"$2\"" && [ "$(jstate "$1")" = "$2" ] &&
		db "SELECT operator_id, result, detail FROM audit WHERE operation = 'cert.resolve'
		    ORDER BY seq DESC LIMIT 1" | grep -q "^sup.1|ok|issuance=$1 unconfirmed -> $2"
}
# still_once NO SECONDS: after SECONDS the printer has still seen job NO once, spooled nothing
still_once() {
	sleep "$2"
	[ "$(printer_jobs | tr ' ' '\n' | grep -c "^$1=")" = 1 ] && [ ! -e "$PRINT_SPOOL/$1.pdf" ] &&
		[ -z "$(find "$PRINT_SPOOL" -name "$1+*")" ]
}

# ---------------------------------------------------------------- paper out

paper_out() {
	printer paper "$PRINTER_SERIAL" out >/dev/null && wait_printer paper_out &&
		_jobs=$(printer_jobs) && fault paper_out good 10000000301 rq-paper &&
		[ "$(jstate "$NO")" = failed ] && [ "$(printer_jobs)" = "$_jobs" ] &&
		status station "$NO" && has '"failure":{"code":"paper_out"' && ! has '"printer"'
}
check "paper out before sending: paper_out, the issuance failed, no byte sent, nothing spooled" \
	paper_out
loaded() {
	printer paper "$PRINTER_SERIAL" in >/dev/null && wait_printer ready
}
check "  paper loaded: ready again" loaded
check "  the next issuance prints" issue station good 10000000301 rq-paper-2

# ---------------------------------------------------------------- jams

jam() { # jam PAGE RID
	printer jam "$PRINTER_SERIAL" "$1" >/dev/null && fault printer_jam household 10000000310 "$2" &&
		held "$NO" printer_jam && [ "$(job_of "$NO")" = "$(($1 - 1))/2:reset" ]
}
check "a jam at page 1 of a two-page household copy: printer_jam, held unconfirmed, its job reset" \
	jam 1 rq-jam-1
JAM1=$NO
check "  the error names the jam's page" grep -q "PAPER JAM PAGE 1" "$GW/fault.err"
cleared() {
	printer jam "$PRINTER_SERIAL" clear >/dev/null && wait_printer ready
}
check "  the jam cleared: ready" cleared
check "  nothing of it comes out afterwards, nor is it sent again" still_once "$JAM1" 1
check "  an issuance operator may not resolve it: forbidden" \
	refused forbidden station cert.resolve "{\"issuance_no\":\"$JAM1\",\"outcome\":\"not_printed\"}"
check "  a supervisor resolves it not_printed" resolved "$JAM1" not_printed
check "  a second decision: wrong_state" \
	refused wrong_state boss cert.resolve "{\"issuance_no\":\"$JAM1\",\"outcome\":\"printed\"}"
check "a jam at page 2: printer_jam, held unconfirmed, page 1 out, its job reset" jam 2 rq-jam-2
JAM2=$NO
check "  cleared" cleared
check "  nothing more comes out, nor is it sent again" still_once "$JAM2" 1
check "  a supervisor resolves it not_printed" resolved "$JAM2" not_printed
household_ok() {
	issue station household 10000000310 rq-house && has '"pages":2' && spooled "$NO" &&
		[ "$(job_of "$NO")" = "2/2:printed" ]
}
check "the household copy issued anew: two pages printed and confirmed" household_ok
two_pages() {
	"$MAKE_CERTDOC" page-text household /dev/stdin --subject 10000000310 --no "$NO" \
		--date "$(field date)" --city "$CERT_CITY" --mayor "$CERT_MAYOR" --pages 2 \
		<<EOF
$(pdftotext -q -raw -enc UTF-8 "$PRINT_SPOOL/$NO.pdf" -)
EOF
	[ "$(pdftotext -q -raw -enc UTF-8 -f 2 -l 2 "$PRINT_SPOOL/$NO.pdf" - | grep -c '山田')" -ge 2 ]
}
check "  all five people's fields on its two pages, nothing else" two_pages

# ---------------------------------------------------------------- vanished

vanished() {
	printer vanish "$PRINTER_SERIAL" 1 >/dev/null && fault printer_removed good 10000000320 rq-gone &&
		held "$NO" printer_removed && [ "$(job_of "$NO")" = "0/1:removed" ]
}
check "the printer vanishing mid-job: printer_removed, held unconfirmed" vanished
GONE=$NO
not_listed() {
	call_ok counter device.list '{}' && ! has "\"id\":\"$PRINTER_SERIAL\""
}
check "  device.list no longer shows it" not_listed
plugged() {
	printer plug "$PRINTER_SERIAL" >/dev/null && wait_printer ready
}
check "  plugged back: ready" plugged
check "  nothing of it comes out, nor is it sent again" still_once "$GONE" 1
check "  a supervisor resolves it printed" resolved "$GONE" printed
plugging_audited() {
	[ "$(db "SELECT count(*) FROM audit WHERE operation LIKE 'device.printer.%' AND
	         detail = 'printer=$PRINTER_SERIAL'")" -ge 3 ]
}
check "  its leaving and coming back audited as device events" plugging_audited

# ---------------------------------------------------------------- the renderer killed

# queued PID: the renderer's link (fd 3) has bytes it has not read
queued() {
	_ino=$(readlink "/proc/$1/fd/3" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[ -n "$_ino" ] && ss -x -a | awk -v i="$_ino" '$6 == i && $3 > 0 { f = 1 } END { exit !f }'
}
render_killed() {
	RPID=$(renderer_pid) && [ -n "$RPID" ] && kill -STOP "$RPID" && CERT_STOPPED=$RPID &&
		_n=$(n_issuances) && bg_issue station good 10000000330 rq-render || return 1
	i=0
	until [ "$(n_issuances)" -gt "$_n" ] && queued "$RPID"; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "the request never reached the renderer" >&2; return 1; }
		sleep 0.05
	done
	NO=$(newest_no)
	echo "renderer $RPID stopped holding the request of $NO ($(jstate "$NO"))"
	[ "$(jstate "$NO")" = reserved ] && kill -KILL "$RPID" && CERT_STOPPED= && bg_end &&
		cat "$GW/bg.err" && [ "$BG_RC" -ne 0 ] && grep -q '^error: render_failed: ' "$GW/bg.err" &&
		[ "$(jstate "$NO")" = failed ] && audited_once "$BG_MARK" render_failed station cert.issue
}
check "the renderer SIGKILLed holding the request: render_failed, the issuance failed" \
	render_killed
restart_audited() {
	i=0
	until [ "$(db "SELECT count(*) FROM audit WHERE operation = 'gateway.renderer_restart'")" -ge 1 ]; do
		i=$((i + 1))
		[ $i -le 50 ] || return 1
		sleep 0.1
	done
	db "SELECT detail FROM audit WHERE operation = 'gateway.renderer_restart'" | grep -q "$RPID"
}
check "  gateway.renderer_restart audited, naming it" restart_audited
after_kill() {
	issue station good 10000000330 rq-render-2 && has '"state":"printed"' && spooled "$NO" &&
		[ -n "$(renderer_pid)" ] && [ "$(renderer_pid)" != "$RPID" ]
}
check "  the next issuance is printed by a new renderer" after_kill
history() {
	call_ok auditor cert.history '{"resident_code":"10000000310"}' &&
		[ "$(grep -o '"issuance_no"' "$GW/out" | wc -l)" = 3 ] &&
		[ "$(grep -o '"state":"not_printed"' "$GW/out" | wc -l)" = 2 ] && has '"household":true'
}
check "cert.history lists the household's three issuances, two not printed" history

sh_test_end
