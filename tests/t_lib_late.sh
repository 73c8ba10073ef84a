#!/bin/bash
# Library source, processes that start AFTER alerttrace, on a libssl it has never seen: a copy of
# the system's libssl at another path (LD_LIBRARY_PATH), then a copy that exists only inside a
# private mount namespace (unshare -m, a tmpfs over a directory), as in a container, which the
# tracer can reach only as /proc/PID/root/PATH. One `alerttrace --no-wire -j` runs throughout.
#
# For each: an s_server on the copy (its /proc/PID/maps must name the copy) answers ALPN "bar"
# with no_application_protocol; clients connect every 0.25 s from its start. Its rescan of /proc
# runs every second: every alert from 2 s after the process started on must be seen, sent by the
# server's pid through the copy (`lib` = the copy's path, or /proc/PID/root/PATH). Then a client
# that does not trust the server's CA sends unknown_ca: received by the server through the copy.
# The copy's hook coverage must appear on stderr, as the system library's did at start.
. "$(dirname "$0")/lib/common.sh"
need_root lib_late
for c in openssl python3 unshare; do
	command -v $c >/dev/null || { fail lib_late_tools "$c not found: run make deps"; exit 1; }
done
[ -x "$AT" ] || { fail lib_late_build "no $AT: run make"; exit 1; }
make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
C=$T/c
. "$TOP/tests/fixtures/lib_path.sh"

# The libssl the openssl program loads by default: the file to copy.
SYS=$(ldd "$(command -v openssl)" | awk '$1 ~ /^libssl\.so/ {print $3; exit}')
SYS=$(realpath "$SYS" 2>/dev/null)
[ -f "$SYS" ] || { fail lib_late_system_libssl "openssl links no libssl file"; exit 1; }
BASE=$(port_block 2)
HZ=$(getconf CLK_TCK)

at_start late || exit 1
# Past the tracer's first scans (at start, then its first poll): what follows is found by the
# periodic rescan, whatever its phase.
sleep 1.3

# age PID: seconds since PID started, to 0.01 s.
age() {
	local st up
	st=$(awk '{print $22}' "/proc/$1/stat" 2>/dev/null) || return 1
	read -r up _ </proc/uptime
	awk -v u="$up" -v s="$st" -v hz="$HZ" 'BEGIN { printf "%.2f", u - s / hz }'
}

# late_case NAME PORT MAPPED LIB_GLOB: SRV_PREFIX set to start the server on its copy; MAPPED is
# the copy's path as the server sees it, LIB_GLOB what alerttrace must name it.
late_case() {
	local name=$1 port=$2 mapped=$3 glob=$4 spid skeep k next a t0 t1 capid got libs
	local probes=() ages=() marks=() from=-1 gaps=0
	server "$name" "$port" -alpn foo || return 1
	spid=$SPID skeep=$SKEEP
	if grep -q " $mapped\$" "/proc/$spid/maps"; then
		pass "${name}_server_maps_the_copy"
	else
		fail "${name}_server_maps_the_copy" "expected $mapped in /proc/$spid/maps, got: $(
			grep -o '/[^ ]*libssl[^ ]*' "/proc/$spid/maps" | sort -u | tr '\n' ' ')"
	fi
	# Probes at 0, 0.25, ... 2.0 s of the server's life (later if the machine is slow), each with
	# the time window its alert must fall in.
	for k in $(seq 0 8); do
		next=$(awk -v k="$k" 'BEGIN { printf "%.2f", k * 0.25 }')
		while a=$(age $spid) && awk -v a="$a" -v n="$next" 'BEGIN { exit !(a < n) }'; do
			sleep 0.02
		done
		[ -n "$a" ] || { fail "${name}_server_alive" "s_server $spid exited"; break; }
		t0=$(date +%s%N)
		client "$name.p$k" "$port" 2 -alpn bar
		t1=$(date +%s%N)
		probes+=("$CPID") ages+=("$a") marks+=("$t0:$t1")
	done
	# A client that does not trust the server's CA: the server receives unknown_ca.
	client "$name.ca" "$port" 2 -alpn foo -CAfile "$C/other-ca.pem" -verify_return_error
	capid=$CPID
	sleep 0.5	# the tracer polls its ring buffer every 200 ms
	wait_exit $spid 0 "$skeep"
	echo "   $name: server pid $spid maps $mapped; unknown_ca client pid $capid"

	# The peers' own word: each probe client got no_application_protocol, the server unknown_ca.
	for k in "${!probes[@]}"; do
		grep -q "SSL alert number 120" "$T/$name.p$k.cli" || gaps=-1
	done
	check "${name}_probe_clients_say_alert_120" 0 $gaps
	peer_said "$name" srv "SSL alert number 48"
	# Which probes' alerts the tracer saw from the server; once hooked, it must miss none.
	got=""
	gaps=0
	for k in "${!probes[@]}"; do
		if [ "$(judge count "$T/late.at" $spid sent 120 ${marks[$k]%:*} ${marks[$k]#*:})" = 1 ]
		then
			got="$got ${ages[$k]}s:seen"
			[ $from -ge 0 ] || from=$k
		else
			got="$got ${ages[$k]}s:missed"
			[ $from -lt 0 ] || gaps=$((gaps + 1))
		fi
	done
	echo "   $name: probe clients ${probes[*]}; server's alert to each, by the server's age:$got"
	k=$(( ${#probes[@]} - 1 ))
	if [ $from -ge 0 ] && [ $gaps = 0 ] && awk -v a="${ages[$k]}" 'BEGIN { exit !(a >= 2.0) }'
	then
		pass "${name}_hooked_within_2s"
	else
		fail "${name}_hooked_within_2s" "expected every alert from the first seen on, and the one" \
			"at ${ages[$k]} s (>= 2 s), got:$got"
	fi
	expect "${name}_last_probe_received_by_client" "$T/late.at" "${probes[$k]}" \
		received 2 120 TLS1.3 read
	got=$(judge event "$T/late.at" $spid sent 120 | sed 's/ n=[0-9]*$//')
	check "${name}_sent_by_server" \
		"sent level=2 code=120 version=TLS1.3 hook=dispatch comm=openssl ssl=yes written=true" \
		"$got"
	expect "${name}_unknown_ca_received_by_server" "$T/late.at" $spid received 2 48 TLS1.3 read
	expect "${name}_unknown_ca_sent_by_client" "$T/late.at" $capid sent 2 48 TLS1.3 dispatch
	# Through the copy: every library event of the server names it.
	libs=$(judge libs "$T/late.at" $spid | tr '\n' ' ')
	libs=${libs% }
	# shellcheck disable=SC2053
	if [ -n "$libs" ] && [[ "$libs" == $glob ]]; then
		pass "${name}_server_events_name_the_copy"
	else
		fail "${name}_server_events_name_the_copy" "expected lib '$glob', got '$libs'"
	fi
	echo "   $name: the server's events name $libs"
	# The coverage report of the new library, as at start (a {"type":"library"} line with -j).
	got=$(judge coverage "$T/late.at.err" | while read -r p h; do
		# shellcheck disable=SC2053
		[[ "$p" == $glob ]] && echo "$h"; done)
	check "${name}_coverage_reported_on_stderr" "sent,received,dtls_sent,dtls_received" \
		"$(head -1 <<<"$got")"
}

# 1. A copy at another path, in our mount namespace: named by its path.
if ! mkdir -p "$T/copy" || ! cp "$SYS" "$T/copy/"; then
	fail late_copy "cannot copy $SYS"; exit 1
fi
COPY=$T/copy/$(basename "$SYS")
SRV_PREFIX=(env "LD_LIBRARY_PATH=$T/copy")
late_case late_copy "$BASE" "$COPY" "$COPY"

# 2. A copy in a tmpfs mounted over $T/ns in a private mount namespace: absent from ours.
mkdir -p "$T/ns"
NSLIB=$T/ns/$(basename "$SYS")
# shellcheck disable=SC2016
SRV_PREFIX=(unshare -m sh -c 'd=$1 l=$2; shift 2; mount -t tmpfs tmpfs "$d" && cp "$l" "$d/" &&
	LD_LIBRARY_PATH=$d exec "$@"' sh "$T/ns" "$SYS")
late_case late_mntns $((BASE + 1)) "$NSLIB" "/proc/[0-9]*/root$NSLIB"
if [ -e "$NSLIB" ]; then
	fail late_mntns_copy_is_private "$NSLIB exists in the test's own mount namespace"
else
	pass late_mntns_copy_is_private
fi
unset SRV_PREFIX

at_stop late
if [ -n "${VERBOSE:-}" ]; then cat "$T/late.at.err" "$T/late.at"; fi
