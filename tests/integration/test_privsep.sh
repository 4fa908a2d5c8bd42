#!/bin/sh
# test_privsep.sh — privilege separation (gateway/README.md): the net
# process that reads client bytes is a separate process holding no state,
# HSM or device descriptor; a system call its seccomp filter forbids
# kills it and only it; the privileged process audits that, starts a new
# one on the same listening sockets, and both transports serve again.
set -u
. "$HWG_SOURCE_DIR/tests/lib/gwenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/sh_test.sh"
GW_NET_RESTARTS_OK=1 # this test kills net processes on purpose
gw_setup || exit 1
gw_client counter counter "$(id -u)"
gw_start || exit 1

net_pid() { sed -n 's/.*event=net.ready pid=\([0-9]*\).*/\1/p' "$GW/hwgwd.log" | tail -n 1; }
# the targets of a process's descriptors, one a line
fds() { for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null; }
# the same past stdin, stdout and stderr (which are the test's log)
fds_own() { for f in /proc/"$1"/fd/*; do [ "${f##*/}" -gt 2 ] && readlink "$f"; done 2>/dev/null; }
wait_ready() { # wait_ready N: until N net processes have said ready
	i=0
	while [ "$(grep -c 'event=net.ready' "$GW/hwgwd.log")" -lt "$1" ] && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.05
	done
}
wait_ready 1
p1=$(net_pid)
check "net process announced" test -n "$p1"
check "net process is a separate pid" test "$p1" != "$GW_PID"
check "net process is the gateway's child" \
	test "$(awk '{print $4}' /proc/"$p1"/stat)" = "$GW_PID"
check "net process is seccomp-filtered" grep -q '^Seccomp:[[:space:]]*2' /proc/"$p1"/status
check "the privileged process is not" grep -q '^Seccomp:[[:space:]]*0' /proc/"$GW_PID"/status
fds "$GW_PID" >"$GW/fds.parent"
fds "$p1" >"$GW/fds.net"
fds_own "$p1" >"$GW/fds.net.own"
check "privileged process holds the store (the check can see it)" contains "$GW/fds.parent" 'hwgw\.db$'
check "net process holds no store file" sh -c "! grep -q '$GW/state' '$GW/fds.net'"
check "net process holds no token file" sh -c "! grep -q '$GW/hsm' '$GW/fds.net'"
check "net process holds no USB device" sh -c "! grep -q '^/dev/bus/usb' '$GW/fds.net'"
check "net process holds sockets, pipes and an eventfd only" sh -c "test -s '$GW/fds.net.own' &&
	! grep -qv '^socket:\|^pipe:\|^anon_inode:' '$GW/fds.net.own'"
check "served over the Unix socket" gw_call counter gw.info --socket "$GW/hwgw.sock"
check "served over HTTP" gw_call counter gw.info --url "$GW_URL"

# the filter's probe: SIGUSR2 makes the net process open /etc/hostname
# (refused with EACCES: it goes on), then make a socket (killed)
kill -USR2 "$p1"
wait_ready 2
p2=$(net_pid)
check "opening a file refused with EACCES (13), not allowed" \
	sh -c "grep -q 'hwgwd-net\[$p1\]: .*event=net.sandbox probe=open errno=13' '$GW/hwgwd.log' &&
	! grep -q 'was allowed' '$GW/hwgwd.log'"
check "net process killed by SIGSYS" contains "$GW/hwgwd.log" "event=net.ended pid=$p1 signal=31"
check "the old net process is gone" sh -c "! kill -0 $p1 2>/dev/null"
check "the privileged process survived" kill -0 "$GW_PID"
check "a new net process" test -n "$p2" -a "$p2" != "$p1"
check "restart audited with the signal" sh -c "sqlite3 '$GW/state/hwgw.db' \
	\"SELECT operation || ' ' || detail FROM audit WHERE operation = 'gateway.net_restart'\" |
	grep -qx 'gateway.net_restart pid=$p1 signal=31 restart_in_ms=0'"
check "served again over the Unix socket" gw_call counter gw.info --socket "$GW/hwgw.sock"
check "served again over HTTP" gw_call counter gw.info --url "$GW_URL"
check "health on the new net process" sh -c "curl -sf '$GW_URL/v1/health' | grep -q ok"

# a net process that exits is restarted the same way; one that ends soon
# after its start again is replaced after a back-off (1 s, then 2 s, ...)
now_ms() { date +%s%3N; }
t0=$(now_ms)
kill -KILL "$p2"
check "SIGKILL of the net process audited, with a restart in 1 s (the second quick end)" \
	sh -c "sleep 0.3; grep -q 'event=net.ended pid=$p2 signal=9 restart_in_ms=1000' '$GW/hwgwd.log'"
# the listening sockets stay open: a request made meanwhile waits in the
# backlog and is served by the next net process
check "a request made during the back-off is served by the restarted process" \
	gw_call counter gw.info --socket "$GW/hwgw.sock"
t1=$(now_ms)
wait_ready 3
check "the restart waited at least 1 s ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 1000
p3=$(net_pid)
kill -KILL "$p3"
check "a third quick end: restart in 2 s" \
	sh -c "sleep 0.3; grep -q 'event=net.ended pid=$p3 signal=9 restart_in_ms=2000' '$GW/hwgwd.log'"
check "served after the third restart" gw_call counter gw.info --socket "$GW/hwgw.sock"
gw_stop
check "clean stop" test "$GW_STATUS" -eq 0
check "no net process left" sh -c "! kill -0 $(net_pid) 2>/dev/null"
check "audit chain verifies" "$HWGWCTL" audit verify --config "$GW/hwgwd.conf"
sh_test_end
