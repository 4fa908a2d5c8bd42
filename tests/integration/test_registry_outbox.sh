#!/bin/sh
# tests/integration/test_registry_outbox.sh — the outbox sender
# (hwgw-registry send) against hwsim's simulated CS (hw-sim/sim_cs.c), on
# SQLite and, when a PostgreSQL server can run here, on PostgreSQL: ten
# move-outs queue ten notices; the sender is SIGKILLed while the CS is
# away (between the changes and their delivery), SIGKILLed again after the
# CS recorded a notice and before it answered (so the notice is sent
# twice), and runs against a CS that fails three times and returns.  Every
# notice must be in the CS's log once, in sequence order, the repeated
# delivery seen as a duplicate, and the outbox empty.
: "${HWG_SOURCE_DIR:?}" "${HWG_BUILD_DIR:?}"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
. "$HWG_SOURCE_DIR/tests/lib/pgenv.sh"

REG=$HWG_BUILD_DIR/registry/hwgw-registry
HWSIM=$HWG_BUILD_DIR/hw-sim/hwsim
T=$(mktemp -d /tmp/hwgw-outbox.XXXXXX)
PORT=$((20000 + $$ % 20000))
SIM_PID=
SEND_PID=

cleanup() {
	[ -z "$SEND_PID" ] || kill -9 "$SEND_PID" 2>/dev/null
	[ -z "$SIM_PID" ] || { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }
	pg_stop
	rm -rf "$T"
}
trap cleanup EXIT

head -c 32 /dev/urandom >"$T/mn.key"
chmod 600 "$T/mn.key"

cs() { "$HWSIM" --control "$T/ctl" --send "cs $*"; }
reg() { "$REG" --db "$DB" --mn-key "$T/mn.key" "$@"; }

start_cs() {
	rm -f "$T/cs.log"
	"$HWSIM" --control "$T/ctl" --cs-port "$PORT" --cs-log "$T/cs.log" 2>>"$T/hwsim.err" &
	SIM_PID=$!
	i=0
	while [ $i -lt 50 ] && ! cs status >/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
	cs status >/dev/null
}

stop_cs() {
	kill "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=
}

# the sender itself in the background (not a subshell: the kill must reach it)
start_sender() {
	"$REG" --db "$DB" --mn-key "$T/mn.key" send --to "http://127.0.0.1:$PORT/notice" --poll-ms 100 >"$T/send.out" 2>&1 &
	SEND_PID=$!
}

kill_sender() {
	kill -9 "$SEND_PID"
	wait "$SEND_PID" 2>/dev/null
	SEND_PID=
}

# wait_lines N: until the CS's log holds N lines (10 s at most)
wait_lines() {
	i=0
	while [ $i -lt 100 ] && [ "$(wc -l <"$T/cs.log")" -lt "$1" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(wc -l <"$T/cs.log")" -ge "$1" ]
}

# ten move-outs of a seeded register: notices 21 to 30
make_changes() {
	reg seed 20 --seed 11 >/dev/null || return 1
	for c in $(reg list --limit 10 | cut -d' ' -f1); do
		reg move-out "$c" --to 大分県別府市 --date 2025-04-10 >/dev/null || return 1
	done
}

# every notice once, in order
log_in_order() {
	sed -n 's/^seq=\([0-9]*\) .*/\1/p' "$T/cs.log" >"$T/seqs"
	seq 21 30 | cmp - "$T/seqs"
}

outbox_empty() {
	[ -z "$(reg outbox)" ]
}

status_has() {
	cs status | grep -q "$1"
}

run_engine() {
	name=$1
	start_cs || { echo "not ok - $name: hwsim's CS did not start"; SH_FAILED=$((SH_FAILED + 1)); return; }
	check "$name: ten changes queue ten notices" make_changes
	check "$name: ten notices in the outbox" sh -c "[ \$($REG --db '$DB' --mn-key '$T/mn.key' outbox | wc -l) -eq 10 ]"
	# killed while the CS is away: nothing delivered, nothing lost
	cs away >/dev/null
	start_sender
	sleep 1.5
	kill_sender
	cs back >/dev/null
	check "$name: nothing recorded while the CS was away" sh -c "[ ! -s '$T/cs.log' ]"
	# killed after the CS recorded the first notice, before its answer
	cs delay 3000 >/dev/null
	start_sender
	check "$name: the CS records the first notice" wait_lines 1
	kill_sender
	cs ack >/dev/null
	# a CS that fails three times, then returns
	cs fail 3 >/dev/null
	check "$name: the sender empties the outbox" reg send --to "http://127.0.0.1:$PORT/notice" --until-empty
	check "$name: it retried through the failures" status_has "failed=3"
	check "$name: the repeated delivery seen as a duplicate" status_has "duplicates=1"
	check "$name: every notice recorded once, in order" log_in_order
	check "$name: the outbox is empty" outbox_empty
	stop_cs
}

DB_FILE=$T/register.db
DB=sqlite:$DB_FILE
run_engine sqlite

pg_start
rc=$?
if [ $rc -eq 0 ]; then
	DB=$PG_URI
	run_engine postgres
else
	echo "# PostgreSQL: skipped (pgenv $rc)"
fi
sh_test_end
