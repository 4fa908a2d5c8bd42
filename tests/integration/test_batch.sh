#!/bin/sh
# test_batch.sh — what the group commit could break.  16 clients at once
# on the Unix socket (batch_driver.c), so that requests share batches:
#   - each answered request has its audit record, and batches of more
#     than one request were committed;
#   - two requests with one nonce released together: one ok, one
#     replayed_nonce, for every pair;
#   - hwgwd SIGKILLed under load (batches commit all the time): every
#     answer that came back has its record, and the chain verifies after
#     the restart;
#   - the disk filling under load (a 32 MiB tmpfs in a private mount
#     namespace): a batch whose commit fails answers audit_unavailable to
#     every request in it, none of those left a record, nothing else
#     failed, and with room again requests are served.
set -u
if [ -z "${HWG_IN_NS:-}" ]; then
	HWG_IN_NS=1 exec unshare --mount sh "$0" "$@"
fi
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
GW_ID=test-batch
CLIENTS=16
DRIVER="$HWG_BUILD_DIR/tests/batch_driver"
mnt=$(mktemp -d /tmp/hwgw-small.XXXXXX)
mount -t tmpfs -o size=32m,mode=0700 tmpfs "$mnt" || { echo "cannot mount tmpfs: skipped"; exit 77; }
GW_STATE="$mnt/state"
export GW_STATE GW_ID
gw_setup || exit 1
i=0
while [ $i -lt $CLIENTS ]; do
	gw_client "batch$i" counter "$(id -u)" || exit 1
	i=$((i + 1))
done
sed -i 's/^log_level = info$/log_level = debug/' "$GW/hwgwd.conf"
gw_start || exit 1
DB="$GW_STATE/hwgw.db"

# values FILE OUTCOME: the request hashes of FILE's lines with OUTCOME, as SQL VALUES rows
values() { awk -v o="$2" '$1 == o { printf "%s(X'\''%s'\'')", (n++ ? "," : ""), $2 }' "$1"; }
# sql_count FILE OUTCOME CONDITION: how many of those hashes meet CONDITION on column1 (by stdin:
# thousands of hashes are longer than an argument may be)
sql_count() {
	_v=$(values "$1" "$2")
	[ -n "$_v" ] || { echo 0; return; }
	printf 'SELECT count(*) FROM (VALUES %s) WHERE %s;\n' "$_v" "$3" | sqlite3 "$DB"
}
# missing FILE: how many of FILE's ok answers have no ok record
missing() { sql_count "$1" ok "column1 NOT IN (SELECT req FROM audit WHERE result = 'ok' AND req IS NOT NULL)"; }
count() { grep -c "^$2 " "$1"; }
# largest batch committed since log line FROM (1-based)
largest_batch() {
	tail -n +"$1" "$GW/hwgwd.log" | sed -n 's/.*event=audit.commit requests=\([0-9]*\)$/\1/p' | sort -n | tail -n 1
}
log_lines() { wc -l <"$GW/hwgwd.log"; }
# note TEXT: a figure, shown on failure and printed at the end
note() { echo "$1" | tee -a "$GW/figures"; }

# ---- load: answers and records, batches of several
from=$(log_lines)
"$DRIVER" load $CLIENTS 20 >"$GW/load.out" || exit 1
loaded() {
	[ "$(count "$GW/load.out" ok)" = $((CLIENTS * 20)) ] || { sort "$GW/load.out" | cut -d' ' -f1 | uniq -c; return 1; }
	[ "$(missing "$GW/load.out")" = 0 ] || { echo "$(missing "$GW/load.out") ok answers without a record"; return 1; }
	_b=$(largest_batch "$from")
	note "largest batch: ${_b:-none}"
	[ "${_b:-0}" -ge 2 ]
}
check "16 clients at once: every answer ok with its record, batches of several requests" loaded

# ---- one nonce twice in one batch
same_nonce() {
	_from=$(log_lines)
	"$DRIVER" same-nonce $CLIENTS >"$GW/pairs.out" || return 1
	_bad=$(awk '!(($3 == "ok" && $4 == "replayed_nonce") || ($3 == "replayed_nonce" && $4 == "ok"))' "$GW/pairs.out")
	[ -z "$_bad" ] || { echo "pairs not one ok and one replayed_nonce: $_bad"; return 1; }
	_b=$(largest_batch "$_from")
	note "largest batch: ${_b:-none}"
	[ "${_b:-0}" -ge 2 ]
}
check "the same nonce twice in a batch: one ok, one replayed_nonce, for each of 16 pairs" same_nonce

# ---- SIGKILL under load
killed() {
	"$DRIVER" load $CLIENTS 400 >"$GW/kill.out" &
	_d=$!
	_i=0
	until [ "$(wc -l <"$GW/kill.out")" -ge 500 ]; do
		_i=$((_i + 1))
		[ $_i -le 300 ] || { echo "the load never got going"; return 1; }
		sleep 0.02
	done
	kill -KILL "$GW_PID"
	wait "$GW_PID" 2>/dev/null
	GW_PID=
	wait $_d || return 1
	_ok=$(count "$GW/kill.out" ok)
	_lost=$(count "$GW/kill.out" noanswer)
	note "SIGKILL: answered ok $_ok, no answer $_lost"
	[ "$_lost" -gt 0 ] || { echo "the kill came after the load"; return 1; }
	GW_NET_RESTARTS_OK=1 gw_start || return 1
	[ "$(missing "$GW/kill.out")" = 0 ] || { echo "$(missing "$GW/kill.out") answered requests lost their record"; return 1; }
	note "SIGKILL: each of the $_ok ok answers has its record"
	"$HWGWCTL" audit verify --config "$GW/hwgwd.conf" >/dev/null
}
check "hwgwd SIGKILLed under load: every answer has its record, the chain verifies" killed

# ---- the disk fills under load
disk_full() {
	_from=$(log_lines)
	"$DRIVER" load $CLIENTS 300 >"$GW/full.out" &
	_d=$!
	sleep 0.3
	dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1
	# full until a commit fails: SQLite reuses its WAL's room, so the first
	# failure may take a while (longer under valgrind)
	_i=0
	until grep -q '^audit_unavailable ' "$GW/full.out"; do
		_i=$((_i + 1))
		kill -0 $_d 2>/dev/null && [ $_i -le 1200 ] || break
		sleep 0.1
	done
	sleep 0.5
	rm -f "$mnt/filler"
	wait $_d || return 1
	_ok=$(count "$GW/full.out" ok)
	_un=$(count "$GW/full.out" audit_unavailable)
	_other=$(awk '$1 != "ok" && $1 != "audit_unavailable"' "$GW/full.out" | wc -l)
	_failed=$(tail -n +"$_from" "$GW/hwgwd.log" |
		sed -n 's/.*event=audit.commit requests=\([0-9]*\) result=.*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
	_big=$(tail -n +"$_from" "$GW/hwgwd.log" |
		sed -n 's/.*event=audit.commit requests=\([0-9]*\) result=.*/\1/p' | sort -n | tail -n 1)
	note "disk full: ok $_ok, audit_unavailable $_un, other $_other; requests in failed batches $_failed (largest ${_big:-none})"
	[ "$_un" -gt 0 ] && [ "$_other" = 0 ] && [ "${_big:-0}" -ge 2 ] && [ "$_un" -ge "$_failed" ] || return 1
	[ "$(missing "$GW/full.out")" = 0 ] || { echo "ok answers without a record"; return 1; }
	_n=$(sql_count "$GW/full.out" audit_unavailable "column1 IN (SELECT req FROM audit WHERE req IS NOT NULL)")
	[ "$_n" = 0 ] || { echo "$_n refused requests left a record"; return 1; }
	gw_call batch0 gw.info --socket "$GW/hwgw.sock" >/dev/null
}
check "the disk fills under load: audit_unavailable to every request of a failed batch, no record of them, nothing else" disk_full

gw_stop
check "audit chain verifies" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
sed 's/^/# /' "$GW/figures"
umount "$mnt" 2>/dev/null
rmdir "$mnt" 2>/dev/null
sh_test_end
