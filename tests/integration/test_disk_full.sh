#!/bin/sh
# test_disk_full.sh — when the audit record cannot reach the disk, the
# request fails with audit_unavailable and nothing runs unaudited; when
# room comes back, the next request succeeds and the chain verifies.
# The state directory is a 2 MiB tmpfs in a private mount namespace.
set -u
if [ -z "${HWG_IN_NS:-}" ]; then
	HWG_IN_NS=1 exec unshare --mount sh "$0" "$@"
fi
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
mnt=$(mktemp -d /tmp/hwgw-small.XXXXXX)
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$mnt" || { echo "cannot mount tmpfs: skipped"; exit 77; }
GW_STATE="$mnt/state"
export GW_STATE
gw_setup || exit 1
gw_client counter counter "$(id -u)"
gw_start || exit 1
check "served before the disk fills" gw_call counter gw.info --socket "$GW/hwgw.sock"
dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1
before=$(sqlite3 "$GW_STATE/hwgw.db" "SELECT count(*) FROM audit WHERE operation='gw.info' AND result='ok'" 2>/dev/null || echo 0)
ok=0 refused=0 other=0 i=0
while [ $i -lt 150 ]; do
	if gw_call counter gw.info --socket "$GW/hwgw.sock" >/dev/null 2>"$GW/err"; then
		ok=$((ok + 1))
	elif grep -q audit_unavailable "$GW/err"; then
		refused=$((refused + 1))
	else
		other=$((other + 1))
	fi
	i=$((i + 1))
done
echo "with the disk full: ok=$ok audit_unavailable=$refused other=$other"
check "a full disk refuses with audit_unavailable" test "$refused" -gt 0
check "no other failure" test "$other" -eq 0
rm -f "$mnt/filler"
check "served again once there is room" gw_call counter gw.info --socket "$GW/hwgw.sock"
gw_stop
after=$(sqlite3 "$GW_STATE/hwgw.db" "SELECT count(*) FROM audit WHERE operation='gw.info' AND result='ok'")
check "every ok answer has its audit record (ok=$ok, records=$((after - before - 1)))" \
	test "$((after - before - 1))" -eq "$ok"
check "audit chain verifies" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
umount "$mnt" 2>/dev/null
rmdir "$mnt" 2>/dev/null
sh_test_end
