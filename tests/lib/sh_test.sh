# tests/lib/sh_test.sh — assertions for shell tests.  Each `check` names
# what it asserts; the script ends with `sh_test_end`, which prints the
# "N passed, N failed" line and sets the exit status.
SH_PASSED=0
SH_FAILED=0

# check "what" command...   passes when the command exits 0.  The command
# runs in this shell (it may set variables) with its stdout and stderr in a
# temporary file; when it fails, what it printed follows the "not ok" line,
# indented, at most SH_TEST_SHOW lines (40) of it, and its exit status.
SH_TEST_SHOW=${SH_TEST_SHOW:-40}
check() {
	_what=$1
	shift
	_sh_test_out=$(mktemp "${TMPDIR:-/tmp}/sh_test.XXXXXX" 2>/dev/null) || _sh_test_out=
	if "$@" >"${_sh_test_out:-/dev/null}" 2>&1; then
		SH_PASSED=$((SH_PASSED + 1))
		echo "ok - $_what"
	else
		_sh_test_rc=$?
		SH_FAILED=$((SH_FAILED + 1))
		echo "not ok - $_what"
		sh_test_show "$_sh_test_out" "$_sh_test_rc"
	fi
	[ -z "$_sh_test_out" ] || rm -f "$_sh_test_out"
}

# sh_test_show FILE STATUS: a failed command's output (FILE; empty when
# none was kept), indented, at most SH_TEST_SHOW lines, then its status.
sh_test_show() {
	if [ -n "$1" ]; then
		awk -v max="$SH_TEST_SHOW" 'NR <= max { print "    " $0 }
			END { if (NR > max) print "    ... " NR - max " more lines" }' "$1"
	fi
	echo "    (exit status $2)"
}

# contains FILE PATTERN: grep -E PATTERN FILE
contains() {
	grep -Eq -- "$2" "$1"
}

sh_test_end() {
	echo "$SH_PASSED passed, $SH_FAILED failed"
	[ "$SH_FAILED" -eq 0 ]
}
