# tests/lib/faultenv.sh — what the fault tests (test_fault_card.sh,
# test_fault_vein.sh) do to a running gateway.  Source it after gwenv.sh,
# then:
#   fault_small_state SIZE   the state directory on a tmpfs of SIZE (e.g.
#                       4m) in the test's mount namespace, so that the test
#                       can fill it: MNT, GW_STATE (exported) and FAULT_DB
#                       set; exits 77 (skipped) if it cannot be mounted
#   lock_store / unlock_store   another SQLite connection holds an
#                       exclusive transaction until unlock_store: the
#                       gateway's next write waits on it (busy timeout 5 s),
#                       so a SIGKILL meanwhile strikes at that store step
#   db SQL / audit_seq / audit_ok   the store (FAULT_DB) queried, its
#                       last audit seq, hwgwctl audit verify
#   n_nonces CLIENT SINCE_MS        CLIENT's nonces seen since SINCE_MS
#   n_records MARK CLIENT OP [CODE] CLIENT's records of OP after seq MARK
#   kill_gw             SIGKILL hwgwd and reap it (GW_PID emptied)
#   bg_running          the request left running by the test's bg is
#                       still waiting (BG_PID)

fault_small_state() {
	MNT=$(mktemp -d /tmp/hwgw-small.XXXXXX)
	mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$MNT" || {
		echo "cannot mount tmpfs: skipped"
		exit 77
	}
	GW_STATE="$MNT/state"
	FAULT_DB="$GW_STATE/hwgw.db"
	export GW_STATE
}

db() {
	sqlite3 -cmd '.timeout 5000' "$FAULT_DB" "$@"
}
audit_seq() {
	db "SELECT coalesce(max(seq), 0) FROM audit"
}
audit_ok() {
	"$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
}
# (since SINCE_MS: older nonces expire, and counting them all would see
# the sweep purge them in a long run)
n_nonces() {
	db "SELECT count(*) FROM nonces WHERE client = '$1' AND seen_ms >= $2"
}
n_records() {
	db "SELECT count(*) FROM audit WHERE seq > $1 AND client = '$2' AND operation = '$3'
	    ${4:+AND result = '$4'}"
}

lock_store() {
	rm -f "$GW/lock.fifo"
	mkfifo "$GW/lock.fifo"
	sqlite3 "$FAULT_DB" <"$GW/lock.fifo" >"$GW/lock.out" 2>&1 &
	LOCK_PID=$!
	exec 8>"$GW/lock.fifo"
	echo "BEGIN EXCLUSIVE; SELECT 'locked';" >&8
	i=0
	until grep -q locked "$GW/lock.out"; do
		i=$((i + 1))
		[ $i -le 100 ] || return 1
		sleep 0.05
	done
}

unlock_store() {
	echo "ROLLBACK;" >&8
	exec 8>&-
	wait "$LOCK_PID"
}

kill_gw() {
	echo "$(date +%s%3N) kill $GW_PID: $(ps -o pid,comm -p "$GW_PID" | tail -n 1)" >>"$GW/trace"
	kill -KILL "$GW_PID" && wait "$GW_PID" 2>/dev/null
	GW_PID=
}

bg_running() {
	kill -0 "$BG_PID" 2>/dev/null
}
