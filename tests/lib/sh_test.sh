# tests/lib/sh_test.sh — assertions for shell tests.  Each `check` names
# what it asserts; the script ends with `sh_test_end`, which prints the
# "N passed, N failed" line and sets the exit status.
SH_PASSED=0
SH_FAILED=0

# check "what" command...   passes when the command exits 0
check() {
	_what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		SH_PASSED=$((SH_PASSED + 1))
		echo "ok - $_what"
	else
		SH_FAILED=$((SH_FAILED + 1))
		echo "not ok - $_what"
	fi
}

# contains FILE PATTERN: grep -E PATTERN FILE
contains() {
	grep -Eq -- "$2" "$1"
}

sh_test_end() {
	echo "$SH_PASSED passed, $SH_FAILED failed"
	[ "$SH_FAILED" -eq 0 ]
}
