# tests/lib/stop.sh — stopping the processes a test started (hwgwd,
# pcscd, hwsim) without ever waiting on them for ever.  Sourced by
# gwenv.sh and veinenv.sh.
# stop_within PID NAME SECONDS: SIGTERM, then wait at most SECONDS for the
# child to end (a zombie has ended); if it has not, its threads (name, wait
# channel, kernel stack) go to stderr, it gets SIGKILL, and 1 is returned,
# so that a hang at shutdown is a named failure, not a ctest timeout.
stop_within() {
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; do
		_i=$((_i + 1))
		if [ $_i -gt $(($3 * 10)) ]; then
			echo "$2 (pid $1) did not stop within $3 s of SIGTERM; its threads:" >&2
			for _t in /proc/"$1"/task/*; do
				echo "  $(cat "$_t/comm" 2>/dev/null) wchan=$(cat "$_t/wchan" 2>/dev/null)" >&2
				head -n 6 "$_t/stack" 2>/dev/null | sed 's/^/    /' >&2
			done
			kill -KILL "$1" 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	return 0
}
