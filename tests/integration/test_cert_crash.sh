#!/bin/sh
# test_cert_crash.sh — hwgwd SIGKILLed with a certificate at each durable
# state of its journal, then started again (issue 14, "Done when": never
# two copies, never a lost issuance, unconfirmed jobs held).  Each state is
# held while the gateway is killed: reserved (the renderer SIGSTOPped
# holding the render request), rendered (then the keyholder SIGSTOPped
# before the PDF's seal, the renderer let go), sealed (hwsim, which answers
# the simulated bus's ioctls, SIGSTOPped: the printer's pre-send check
# waits on it), sent (the printer slowed to 3 s a page).  After the
# restart the issuance is failed (not yet sent) or unconfirmed (sent), as
# cert.status tells the station, with one cert.recovered record each; the
# printer saw the job at most once, the spool holds no NAME+2.pdf, nothing
# is ever sent again by the gateway, and the gateway issues the next
# certificate.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/certenv.sh"
cert_test_start || exit 1

# queued PID: the renderer's link (fd 3) holds bytes it has not read
queued() {
	_ino=$(readlink "/proc/$1/fd/3" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[ -n "$_ino" ] && ss -x -a | awk -v i="$_ino" '$6 == i && $3 > 0 { f = 1 } END { exit !f }'
}
# started SUBJECT RID: a cert.issue left running, its issuance reserved ($NO)
started() {
	_n=$(n_issuances) && bg_issue station good "$1" "$2" || return 1
	i=0
	until [ "$(n_issuances)" -gt "$_n" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "no issuance reserved" >&2; return 1; }
		sleep 0.05
	done
	NO=$(newest_no)
}
# stays NO STATE: still STATE half a second later
stays() {
	wait_jstate "$1" "$2" 100 && sleep 0.5 && [ "$(jstate "$1")" = "$2" ]
}
killed() {
	kill_gw && bg_end && [ "$BG_RC" -ne 0 ] && ! grep -q '^error: [a-z_]*: ' "$GW/bg.err"
}
# after_restart NO WAS NOW CODE: hwgwd started again finds NO WAS, makes it
# NOW for CODE, audits cert.recovered once; cert.status tells the station
after_restart() {
	gw_start && [ "$(jstate "$1")" = "$3" ] && recovered "$1" "$2" "$3" &&
		status station "$1" && has "\"state\":\"$3\"" && has "\"failure\":{\"code\":\"$4\""
}
# seen NO: how many jobs named NO the printer has ended
seen() {
	printer_jobs | tr ' ' '\n' | grep -c "^$1=" || true
}
never_printed() {
	[ "$(seen "$1")" = 0 ] && [ -z "$(find "$PRINT_SPOOL" -name "$1*")" ]
}

# ---------------------------------------------------------------- reserved

at_reserved() {
	RPID=$(renderer_pid) && kill -STOP "$RPID" && CERT_STOPPED=$RPID &&
		started 10000000401 rq-k1 || return 1
	i=0
	until queued "$RPID"; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "the request never reached the renderer" >&2; return 1; }
		sleep 0.05
	done
	stays "$NO" reserved && killed
}
check "hwgwd SIGKILLed at reserved (the renderer holding the request)" at_reserved
K1=$NO
check "  restarted: failed (unavailable), cert.recovered audited, cert.status says so" \
	after_restart "$K1" reserved failed unavailable
check "  nothing sent, nothing spooled" never_printed "$K1"

# ---------------------------------------------------------------- rendered

at_rendered() {
	RPID=$(renderer_pid) && kill -STOP "$RPID" && CERT_STOPPED=$RPID &&
		started 10000000402 rq-k2 || return 1
	i=0
	until queued "$RPID"; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "the request never reached the renderer" >&2; return 1; }
		sleep 0.05
	done
	# the code was sealed before the render request went out: the keyholder is idle now
	KPID=$(keyholder_pid) && kill -STOP "$KPID" && CERT_STOPPED="$RPID $KPID" &&
		kill -CONT "$RPID" && CERT_STOPPED=$KPID && stays "$NO" rendered && killed
}
check "hwgwd SIGKILLed at rendered (the keyholder stopped before the PDF's seal)" at_rendered
K2=$NO
check "  restarted: failed, cert.recovered audited" after_restart "$K2" rendered failed unavailable
check "  nothing sent, nothing spooled" never_printed "$K2"

# ---------------------------------------------------------------- sealed

at_sealed() {
	kill -STOP "$HWSIM_PID" && started 10000000403 rq-k3 && stays "$NO" sealed
	_rc=$?
	[ $_rc -ne 0 ] || killed
	_rc=$((_rc + $?))
	kill -CONT "$HWSIM_PID"
	return $_rc
}
check "hwgwd SIGKILLed at sealed (hwsim stopped: the printer's check waits on the bus)" at_sealed
K3=$NO
check "  restarted: failed, cert.recovered audited" after_restart "$K3" sealed failed unavailable
check "  nothing sent, nothing spooled" never_printed "$K3"

# ---------------------------------------------------------------- sent

at_sent() {
	printer speed "$PRINTER_SERIAL" 3000 >/dev/null && started 10000000404 rq-k4 &&
		stays "$NO" sent && killed
}
check "hwgwd SIGKILLed at sent (the printer at 3 s a page)" at_sent
K4=$NO
check "  restarted: held unconfirmed (print_unconfirmed), cert.recovered audited" \
	after_restart "$K4" sent unconfirmed print_unconfirmed
# the printer ends the job it holds (or the restart's reset drops it): once
job_ended() {
	i=0
	until [ "$(seen "$K4")" -ge 1 ]; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.1
	done
	printer speed "$PRINTER_SERIAL" 200 >/dev/null && sleep 2 && [ "$(seen "$K4")" = 1 ] &&
		[ -z "$(find "$PRINT_SPOOL" -name "$K4+*")" ] && [ "$(jstate "$K4")" = unconfirmed ]
}
check "  the printer ended its job once; never sent again, no $K4+2.pdf, still held" job_ended
held_resolved() {
	_outcome=not_printed
	[ ! -e "$PRINT_SPOOL/$K4.pdf" ] || _outcome=printed
	call_ok boss cert.resolve "{\"issuance_no\":\"$K4\",\"outcome\":\"$_outcome\"}" &&
		has "\"state\":\"$_outcome\"" && has '"resolved_by":"sup.1"'
}
check "  a supervisor resolves it as the spool shows it" held_resolved

# ---------------------------------------------------------------- afterwards

after_all() {
	issue station good 10000000405 rq-k5 && has '"state":"printed"' && spooled "$NO" &&
		[ -z "$(find "$PRINT_SPOOL" -name '*+*')" ]
}
check "the gateway issues the next certificate; no spooled copy anywhere is a second one" after_all
one_each() {
	[ "$(db "SELECT count(*) FROM audit WHERE operation = 'cert.recovered'")" = 4 ] &&
		db "SELECT client, subject FROM audit WHERE operation = 'cert.recovered'
		    AND detail LIKE 'issuance=$K4 %'" | grep -qx 'station|10000000404'
}
check "cert.recovered: one record per issuance in flight, the station and resident named" one_each
check "the audit chain verifies" sh -c "'$HWGWCTL' audit verify --config '$GW/hwgwd.conf' >/dev/null"

sh_test_end
