# tests/lib/cardenv.sh — a private pcscd with the vpcd driver, hwsim
# playing the cards, and a real hwgwd reading them, all inside the test's
# own mount and network namespaces so that tests never touch a system
# pcscd and can run side by side.  The personal-data operations need an
# operator session (issue 4), so a second hwsim plays a palm-vein terminal
# (veinenv.sh) and the clients that may call them get an operator.
# Source it after gwenv.sh, then:
#   card_enter "$@"     re-run the calling script inside unshare (root
#                       only; exits 77, "skipped", otherwise)
#   card_setup          PKI, pcscd, hwsim, the terminal's hwsim, and a
#                       gateway configured for cards and operators
#   card_start NAME:ROLE... [--insert PROFILE]   card_setup, those clients
#                       and the admin clients admin and admin2 (all with
#                       our uid), the gateway running with its first admin
#                       operator, an operator "op.NAME" of the same role
#                       logged in on each counter or issuance client
#                       ($GW/sessions/NAME), and the card PROFILE in slot 0
#                       if asked
#   sim CMD...          one hwsim control command; prints the reply's data,
#                       fails on "err"
#   card_call CLIENT OP ARGS_JSON [hwgwctl options]   call OP with the
#                       arguments in a file (as a PIN should travel) and
#                       CLIENT's operator session if it has one; result JSON
#                       on stdout
#   card_insert SLOT NAME / card_remove SLOT   and wait until pcscd sees it
#   pcscd_start / pcscd_stop
# Reader names: "hwsim 00 00" (slot 0) and "hwsim 00 01" (slot 1).

HWSIM="$HWG_BUILD_DIR/hw-sim/hwsim"
. "$HWG_SOURCE_DIR/tests/lib/veinenv.sh"
VPCD_PORT=37120 # 0x9100: vpcd's CHANNELID; slot 1 listens on the next port
READER0="hwsim 00 00"
READER1="hwsim 00 01"

card_enter() {
	[ -n "${HWG_CARD_NS:-}" ] && return 0
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v pcscd >/dev/null; then
		echo "SKIP: card tests need root, unshare and pcscd (make check installs them)"
		exit 77
	fi
	exec env HWG_CARD_NS=1 unshare --mount --net --propagation private sh "$0" "$@"
}

# The test PKI is made once per build tree and remade when the script
# that makes it changes or it is older than 20 hours (its CRLs and
# certificates are dated from the day it was made).
card_pki() {
	CARD_PKI="$HWG_BUILD_DIR/card-pki"
	(
		flock 9
		if [ -e "$CARD_PKI/.complete" ] && { [ -n "$(find "$CARD_PKI/.complete" -mmin +1200)" ] ||
			! cmp -s "$HWG_SOURCE_DIR/scripts/card-pki" "$CARD_PKI/.made-by"; }; then
			rm -rf "$CARD_PKI"
		fi
		"$HWG_SOURCE_DIR/scripts/card-pki" --dir "$CARD_PKI" >/dev/null &&
			cp "$HWG_SOURCE_DIR/scripts/card-pki" "$CARD_PKI/.made-by"
	) 9>"$HWG_BUILD_DIR/card-pki.lock"
	export CARD_PKI
}

pcscd_start() {
	mkdir -p /run/pcscd
	mountpoint -q /run/pcscd || mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
	(
		ulimit -n 1024
		exec pcscd --foreground --config "$GW/reader.conf" >>"$GW/pcscd.log" 2>&1
	) &
	PCSCD_PID=$!
	i=0
	until [ -S /run/pcscd/pcscd.comm ]; do
		i=$((i + 1))
		[ $i -le 200 ] && kill -0 "$PCSCD_PID" 2>/dev/null || {
			echo "pcscd did not start:" >&2
			cat "$GW/pcscd.log" >&2
			return 1
		}
		sleep 0.05
	done
}

pcscd_stop() {
	[ -n "${PCSCD_PID:-}" ] || return 0
	stop_within "$PCSCD_PID" pcscd 30
	wait "$PCSCD_PID" 2>/dev/null || true
	PCSCD_PID=
	rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
}

card_setup() {
	card_pki
	gw_setup
	ip link set lo up
	cat >"$GW/reader.conf" <<CONF
FRIENDLYNAME "hwsim"
DEVICENAME /dev/null:0x9100
LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID 0x9100
CONF
	pcscd_start
	# (veinenv.sh's HWSIM_PID is the terminal's hwsim: this one is the cards')
	"$HWSIM" --port $VPCD_PORT --slots 2 --control "$GW/hwsim.ctl" 2>>"$GW/hwsim.log" &
	CARD_SIM_PID=$!
	i=0
	until [ -S "$GW/hwsim.ctl" ]; do
		i=$((i + 1))
		[ $i -le 200 ] || { echo "hwsim did not start" >&2; cat "$GW/hwsim.log" >&2; return 1; }
		sleep 0.05
	done
	cat >>"$GW/hwgwd.conf" <<CONF
[card]
roots = $CARD_PKI/roots
crls = ${CARD_CRLS:-$CARD_PKI/crl}
crl_grace = ${CARD_CRL_GRACE:-0}
integrity_key = $CARD_PKI/integrity.pub.pem
timeout_ms = ${CARD_TIMEOUT_MS:-5000}
mynumber_roles = ${CARD_MYNUMBER_ROLES:-counter}
CONF
	trap card_cleanup EXIT
	vein_setup
}

card_start() {
	card_setup || { CARD_FAILED=1; return 1; }
	_logins=
	for _c in admin admin2; do
		gw_client $_c admin "$(id -u)" || return 1
	done
	while [ $# -gt 0 ]; do
		if [ "$1" = --insert ]; then
			_insert=$2
			shift 2
			continue
		fi
		gw_client "${1%%:*}" "${1#*:}" "$(id -u)" || return 1
		case ${1#*:} in counter | issuance) _logins="$_logins $1" ;; esac
		shift
	done
	gw_start && operator_bootstrap || { CARD_FAILED=1; return 1; }
	for _l in $_logins; do
		operator_login "${_l%%:*}" "op.${_l%%:*}" "${_l#*:}" || {
			echo "operator op.${_l%%:*} could not log in on ${_l%%:*}" >&2
			CARD_FAILED=1
			return 1
		}
	done
	[ -z "${_insert:-}" ] || card_insert 0 "$_insert" || { CARD_FAILED=1; return 1; }
}

card_cleanup() {
	_exit_status=$?
	gw_stop || true
	if [ -n "${CARD_SIM_PID:-}" ]; then
		stop_within "$CARD_SIM_PID" "the cards' hwsim" 30
		wait "$CARD_SIM_PID" 2>/dev/null
	fi
	vein_sim_stop
	pcscd_stop
	if [ -n "${CARD_FAILED:-}" ] || [ -n "${HWG_KEEP:-}" ]; then
		for f in trace hwgwd.log hwsim.log vein-sim.log pcscd.log; do
			echo "--- $f (last 40 lines)" >&2
			tail -n 40 "$GW/$f" >&2 2>/dev/null || true
		done
	fi
	gw_cleanup "$_exit_status"
}

sim() {
	_reply=$("$HWSIM" --control "$GW/hwsim.ctl" --send "$*") || {
		echo "hwsim: $* -> $_reply" >&2
		return 1
	}
	printf '%s\n' "$_reply"
}

# card_call CLIENT OP ARGS_JSON [hwgwctl options]: the arguments go through
# a file, never argv; CLIENT's session goes along when it has one (a later
# --session-file in the options wins over it).
card_call() {
	vein_call "$@"
}

# Wait until the gateway has seen the slot's card inserted (yes) or removed
# (no): its last card event for that reader in the log says so.  (Polling
# device.list would do too, but would flood the audit with records.)
card_wait() {
	_ev=$([ "$2" = yes ] && echo inserted || echo removed)
	_reader=$([ "$1" = 0 ] && echo "$READER0" || echo "$READER1")
	i=0
	until grep -E "event=device\.card\.(inserted|removed) reader=\"$_reader\"" "$GW/hwgwd.log" |
		tail -n 1 | grep -q "event=device.card.$_ev "; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "card in slot $1 never seen $_ev" >&2; return 1; }
		sleep 0.1
	done
}

card_insert() {
	sim insert "$1" "$CARD_PKI/cards/$2.card" >/dev/null && card_wait "$1" yes
}

card_remove() {
	sim remove "$1" >/dev/null && card_wait "$1" no
}

# ---- assertions for card tests (with sh_test.sh's check)
# call_ok CLIENT OP ARGS_JSON: succeeds; the result on one line, without
# the pretty-printer's white space, is in $GW/out
call_ok() {
	card_call "$@" >"$GW/out.json" 2>"$GW/err" || return 1
	sed 's/^ *//; s/": /":/' "$GW/out.json" | tr -d '\n' >"$GW/out"
}
# refused CODE CLIENT OP ARGS_JSON: refused with error CODE; stderr in $GW/err
refused() {
	_code=$1
	shift
	! card_call "$@" >"$GW/out" 2>"$GW/err" && grep -q "^error: $_code: " "$GW/err"
}
# has PATTERN: the last result holds the text (fixed string)
has() {
	grep -qF -- "$1" "$GW/out"
}
# json_hex KEY: the bytes of "KEY":"hex:..." in the last result, on stdout
json_hex() {
	sed -n "s/.*\"$1\":\"hex:\([0-9a-f]*\)\".*/\1/p" "$GW/out" | tr a-f A-F | basenc --base16 -d
}
# apdu_count SLOT: C-APDUs the card in SLOT received since the last apdus-clear
apdu_count() {
	sim apdus "$1" | awk '{print $2}'
}
