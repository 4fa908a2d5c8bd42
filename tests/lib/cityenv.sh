# tests/lib/cityenv.sh — a city of counters on one register: a PostgreSQL
# server of the test's own (pgenv.sh) holding the register, seeded once,
# and N counters, each a whole counter of visitenv.sh (its own hwgwd,
# hwsim card reader, palm terminal and printer, pcscd, SoftHSM2 token) in
# its own mount and network namespaces (tests/integration/city_counter.sh),
# all running visits at once for a while.  As root.  Source gwenv.sh
# first, then:
#   city_start          PostgreSQL, the register seeded (CITY_SEED_N
#                       synthetic residents, 300) with the counters' known
#                       residents; sets CITY (a folder every namespace sees)
#   city_run N SECONDS  N counters set up in parallel, then visits on all
#                       of them at once for SECONDS (at least
#                       CITY_MIN_VISITS, 3, whole visits a counter where
#                       the machine is slow); each counter's results
#                       in $CITY/cK/ (see city_counter.sh); fails if one
#                       did not come up or did not finish
#   city_visits / city_rate   whole visits done in the last run / a second
#   city_stop           the counters' leftovers and the server gone
#   city_registry ARGS  hwgw-registry on the register
# Known residents: the Wakaba household (CITY_HEAD 花子, its head, card of
# counter 1; CITY_CHILD 健太, card of counter 2; CITY_MOVER 美咲, whose
# household counters 1 and 2 both change); 東雲　三郎 (counter 3);
# 大分　次郎 (counter 4), moving in from 大分市 (move-out data pending).
. "$HWG_SOURCE_DIR/tests/lib/pgenv.sh"
HWGW_REGISTRY="$HWG_BUILD_DIR/registry/hwgw-registry"
CITY_HEAD=10000000014
CITY_CHILD=10000000022
CITY_MOVER=10000000030
CITY_SABURO=10000000057
CITY_JIRO=10000000049
CITY_ADDRESS="東雲県若葉市本町１丁目２番３号"
CITY_JIRO_NEW="東雲県若葉市本町２丁目５番８号"
CITY_JIRO_OLD="大分県大分市荷揚町２番３１号"

city_registry() {
	"$HWGW_REGISTRY" --db "$PG_URI" --mn-key "$CITY/mn.key" "$@"
}

city_people() {
	cat >"$CITY/people.csv" <<CSV
resident_code,name,kana,birth,sex,address,postcode,city_code,aza_code,my_number,household,relation
$CITY_HEAD,若葉　花子,ワカバ　ハナコ,1985-04-01,2,$CITY_ADDRESS,9990001,492019,001,537686677188,,世帯主
$CITY_CHILD,若葉　健太,ワカバ　ケンタ,2010-06-15,1,$CITY_ADDRESS,9990001,492019,001,400000000017,=,子
$CITY_MOVER,若葉　美咲,ワカバ　ミサキ,2012-09-30,2,$CITY_ADDRESS,9990001,492019,001,400000000025,=,子
$CITY_SABURO,東雲　三郎,シノノメ　サブロウ,1972-11-23,1,東雲県若葉市本町３丁目１番１号,9990001,492019,001,400000000033,,世帯主
CSV
	city_registry move-in "$CITY/people.csv" --date 2025-04-01 >"$CITY/people.log" || return 1
	cat >"$CITY/moveout.csv" <<CSV
resident_code,name,kana,birth,sex,address,my_number,from_city,moving_to,moving_date
$CITY_JIRO,大分　次郎,オオイタ　ジロウ,1990-02-03,1,$CITY_JIRO_OLD,123456789018,442011,$CITY_JIRO_NEW,$(date +%Y-%m-%d)
CSV
	city_registry moveout-import "$CITY/moveout.csv" >/dev/null
}

city_start() {
	pg_start || return $?
	CITY="$PG_DIR/city"
	mkdir -m 0755 "$CITY" || return 1
	head -c 32 /dev/urandom >"$CITY/mn.key" && chmod 600 "$CITY/mn.key"
	city_registry seed "${CITY_SEED_N:-300}" >"$CITY/seed.log" && city_people || {
		cat "$CITY/seed.log" "$CITY/people.log" >&2 2>/dev/null
		return 1
	}
	export CITY
}

# city_wait FILE... : each file appears (CITY_SETUP_S, 240 s); a counter
# that ended before writing its file fails at once
city_wait() {
	_i=0
	for _f in "$@"; do
		until [ -e "$_f" ]; do
			_i=$((_i + 1))
			[ $_i -le $((${CITY_SETUP_S:-240} * 10)) ] || { echo "no $_f" >&2; return 1; }
			for _p in $CITY_PIDS; do
				kill -0 "$_p" 2>/dev/null || [ -e "$_f" ] ||
					{ echo "a counter ended before $_f" >&2; return 1; }
			done
			sleep 0.1
		done
	done
}

city_run() {
	_n=$1
	rm -rf "$CITY"/c[0-9]* "$CITY/go" "$CITY/go.tmp"
	CITY_PIDS=
	for _k in $(seq 1 "$_n"); do
		mkdir -m 0755 "$CITY/c$_k"
		env HWG_CARD_NS=1 CITY="$CITY" PG_URI="$PG_URI" CITY_SECONDS="$2" \
			CITY_MIN_VISITS="${CITY_MIN_VISITS:-3}" \
			unshare --mount --net --propagation private \
			sh "$HWG_SOURCE_DIR/tests/integration/city_counter.sh" "$_k" \
			>"$CITY/c$_k/out.log" 2>&1 &
		CITY_PIDS="$CITY_PIDS $!"
	done
	_ready=
	for _k in $(seq 1 "$_n"); do _ready="$_ready $CITY/c$_k/ready"; done
	# shellcheck disable=SC2086
	if ! city_wait $_ready; then
		city_kill
		return 1
	fi
	# written whole, then renamed: a counter never reads a go without its time
	date +%s.%N >"$CITY/go.tmp" && mv "$CITY/go.tmp" "$CITY/go"
	_rc=0
	for _p in $CITY_PIDS; do wait "$_p" || _rc=1; done
	CITY_PIDS=
	return $_rc
}

city_kill() {
	for _p in $CITY_PIDS; do kill -TERM "$_p" 2>/dev/null; done
	for _p in $CITY_PIDS; do wait "$_p" 2>/dev/null; done
	CITY_PIDS=
}

# city_visits: whole visits done by all the counters of the last run
city_visits() {
	cat "$CITY"/c[0-9]*/visits.log 2>/dev/null | grep -c '^visit [0-9]* ok'
}

# city_rate: whole visits a second over the last run, from $CITY/go to
# the end of the last counter's last visit
city_rate() {
	cat "$CITY/go" "$CITY"/c[0-9]*/end | awk -v n="$(city_visits)" '
		NR == 1 { go = $1; end = $1; next }
		$1 > end { end = $1 }
		END { if (end > go) printf "%.3f\n", n / (end - go); else print 0 }'
}

# city_stop: with HWG_KEEP set, the city's folder is left (copied to /tmp)
city_stop() {
	city_kill
	[ -z "${HWG_KEEP:-}" ] || [ -z "${CITY:-}" ] || cp -r "$CITY" "$(mktemp -d /tmp/hwgw-city.XXXXXX)"
	pg_stop
}
