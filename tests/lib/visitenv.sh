# tests/lib/visitenv.sh — a whole counter for hwgw-counter: a private pcscd
# whose readers hwsim plays, hwsim's palm terminal and certificate printer
# (all on one hwsim, under umockdev's preload), SoftHSM2, hwgwd with
# cards, terminals and certificates on, and a register on SQLite seeded
# with synthetic residents plus known ones whose cards hwsim holds.
# Source gwenv.sh first; as root (card_enter re-runs the script in its
# own namespaces).  Then:
#   visit_setup          everything above; the gateway running with its
#                        first admin, clerk tanaka.h (issuance) and
#                        supervisor sato.k enrolled; $GW/counter.conf
#   counter ARGS...      hwgw-counter with that configuration
#   visit_insert NAME    the card $GW/cards/NAME.card (or the PKI's) in slot 0
#   visit_remove         pull it
#   palm PERSON          the next capture on the terminal is PERSON's palm
# Residents (VISIT_* variables): the Wakaba household — 花子 (head, card
# "hanako", PIN 1234), 健太 (child), 美咲 (child, a DV support measure in
# force); 次郎, moving in from 大分市 (move-out data pending, card "jiro").

. "$HWG_SOURCE_DIR/tests/lib/cardenv.sh"
. "$HWG_SOURCE_DIR/tests/lib/printenv.sh"
HWGW_COUNTER="$HWG_BUILD_DIR/counter/hwgw-counter"
HWGW_REGISTRY="$HWG_BUILD_DIR/registry/hwgw-registry"
VISIT_HANAKO=10000000014
VISIT_KENTA=10000000022
VISIT_MISAKI=10000000030
VISIT_JIRO=10000000049
VISIT_ADDRESS="東雲県若葉市本町１丁目２番３号"
VISIT_PIN=1234

# the register: seeded, then the known people
visit_register() {
	head -c 32 /dev/urandom >"$GW/mn.key" && chmod 600 "$GW/mn.key"
	registry seed "${VISIT_SEED_N:-300}" >"$GW/seed.log" || return 1
	cat >"$GW/people.csv" <<CSV
resident_code,name,kana,birth,sex,address,postcode,city_code,aza_code,my_number,household,relation
$VISIT_HANAKO,若葉　花子,ワカバ　ハナコ,1985-04-01,2,$VISIT_ADDRESS,9990001,492019,001,537686677188,,世帯主
$VISIT_KENTA,若葉　健太,ワカバ　ケンタ,2010-06-15,1,$VISIT_ADDRESS,9990001,492019,001,400000000017,=,子
$VISIT_MISAKI,若葉　美咲,ワカバ　ミサキ,2012-09-30,2,$VISIT_ADDRESS,9990001,492019,001,400000000025,=,子
CSV
	registry move-in "$GW/people.csv" --date 2025-04-01 >"$GW/people.log" &&
		registry dv "$VISIT_MISAKI" apply --date 2025-01-10 >/dev/null || return 1
	cat >"$GW/moveout.csv" <<CSV
resident_code,name,kana,birth,sex,address,my_number,from_city,moving_to,moving_date
$VISIT_JIRO,大分　次郎,オオイタ　ジロウ,1990-02-03,1,大分県大分市荷揚町２番３１号,123456789018,442011,東雲県若葉市本町２丁目５番８号,$(date +%Y-%m-%d)
CSV
	registry moveout-import "$GW/moveout.csv" >/dev/null
}

registry() {
	"$HWGW_REGISTRY" --db "sqlite:$GW/register.db" --mn-key "$GW/mn.key" "$@"
}

# visit_card NAME HOLDER-NAME ADDRESS YYYYMMDD SEX MYNUMBER: a profile from
# alice's keys and certificates with these facts (the integrity record is
# made from them when hwsim loads it)
visit_card() {
	mkdir -p "$GW/cards"
	awk -v pki="$CARD_PKI/" -v n="$2" -v a="$3" -v b="$4" -v s="$5" -v m="$6" '
		/^name = / { print "name = " n; next }
		/^address = / { print "address = " a; next }
		/^birth = / { print "birth = " b; next }
		/^sex = / { print "sex = " s; next }
		/^mynumber = / { print "mynumber = " m; next }
		{ sub(/= \.\.\//, "= " pki); print }' "$CARD_PKI/cards/alice.card" >"$GW/cards/$1.card"
}

# one hwsim for the card slots, the terminal and the printer
visit_sim_start() {
	cat >"$GW/reader.conf" <<CONF
FRIENDLYNAME "hwsim"
DEVICENAME /dev/null:0x9100
LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID 0x9100
CONF
	pcscd_start || return 1
	VEIN_SERIALS=$VEIN_TERMINAL HWSIM_EXTRA_ARGS="--port $VPCD_PORT --slots 2" \
		printer_sim_start "KM2000417 CP-200" ||
		return 1
	ln -sf "$GW/vein.ctl" "$GW/hwsim.ctl" # cardenv's `sim` talks to the same hwsim
}

visit_gateway_conf() {
	GW_WRAP="env LD_PRELOAD=$(vein_preload) ASAN_OPTIONS=$(vein_asan) UMOCKDEV_DIR=$UMOCKDEV_DIR"
	cat >>"$GW/hwgwd.conf" <<CONF
[card]
roots = $CARD_PKI/roots
crls = $CARD_PKI/crl
crl_grace = 0
integrity_key = $CARD_PKI/integrity.pub.pem
timeout_ms = 5000
mynumber_roles = issuance
[vein]
capture_timeout_ms = 3000
[operator]
session_idle_s = 600
[cert]
enabled = yes
city = 東雲県若葉市
mayor = 青葉　一
job_timeout_ms = ${VISIT_JOB_TIMEOUT_MS:-8000}
[printer]
enabled = yes
scan_interval_ms = 200
CONF
}

visit_counter_conf() {
	cat >"$GW/counter.conf" <<CONF
[client]
client_id = counter01
key = keys/counter01.key
gateway_id = $GW_ID
gateway_pubkey = hsm/gateway-response.pub.pem
socket = hwgw.sock
[counter]
terminal = $VEIN_TERMINAL
reader = $READER0
printer = KM2000417
state_dir = counter-state
operator_id = tanaka.h
[registry]
db = sqlite:register.db
mn_key = mn.key
key = keys/registry.key
client_id = registry
CONF
}

# enrol OPERATOR ROLE (three captures of that person's palm), by the admin
visit_enrol() {
	vein present 0 "$1" 3 >/dev/null &&
		vein_call admin operator.enroll "{\"terminal\":\"$VEIN_TERMINAL\",\"operator_id\":\"$1\",\"role\":\"$2\",\"valid_until\":$(vein_ms_from_now 2592000)}" >/dev/null
}

visit_setup() {
	card_pki
	gw_setup || return 1
	trap visit_cleanup EXIT
	ip link set lo up
	mkdir -m 0700 -p "$GW/sessions"
	visit_sim_start && visit_gateway_conf && visit_register || return 1
	visit_card hanako "若葉　花子" "$VISIT_ADDRESS" 19850401 2 537686677188
	visit_card jiro "大分　次郎" "大分県大分市荷揚町２番３１号" 19900203 1 123456789018
	for c in admin:admin admin2:admin counter01:issuance registry:registry; do
		gw_client "${c%%:*}" "${c#*:}" "$(id -u)" || return 1
	done
	gw_start && operator_bootstrap && visit_enrol tanaka.h issuance &&
		visit_enrol sato.k supervisor || return 1
	visit_counter_conf
}

visit_cleanup() {
	_exit_status=$?
	gw_stop || true
	vein_sim_stop
	pcscd_stop
	if [ "$_exit_status" != 0 ] && [ -n "${GW:-}" ]; then
		for f in hwgwd.log vein-sim.log pcscd.log; do
			echo "--- $f (last 30 lines)" >&2
			tail -n 30 "$GW/$f" >&2 2>/dev/null || true
		done
	fi
	gw_cleanup "$_exit_status"
}

counter() {
	"$HWGW_COUNTER" --config "$GW/counter.conf" "$@"
}

palm() {
	vein present 0 "$1" >/dev/null || { echo "palm $1: not presented"; return 1; }
}

visit_insert() {
	_p="$GW/cards/$1.card"
	[ -e "$_p" ] || _p="$CARD_PKI/cards/$1.card"
	sim insert 0 "$_p" >/dev/null && card_wait 0 yes
}

visit_remove() {
	sim remove 0 >/dev/null && card_wait 0 no
}
