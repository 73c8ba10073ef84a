#!/bin/bash
# Which container: cgroups made here under the names the runtimes give theirs, nested as their
# cgroup drivers nest them (docker with the systemd and the cgroupfs driver, Kubernetes burstable
# with containerd and besteffort with CRI-O under the systemd driver, a guaranteed pod under the
# cgroupfs driver, podman), all under one directory of this test in the cgroup v2 hierarchy; a
# real openssl s_client moved into each (echo PID > cgroup.procs, then exec) makes CASE_N
# connections to an openssl s_server that a CA it does not trust signed, so it sends unknown_ca
# CASE_N times. The server and one client sit in cgroups no runtime names (a service and a
# session): outside containers.
#
# The judges: the ids, pod UIDs and directories this test made, the kernel's word on where each
# peer was (/proc/PID/cgroup, read after the move) and the peers' own account of their alerts
# (s_client -msg: ">>> ... Alert ..., fatal unknown_ca"; s_server: "SSL alert number 48").
#  - stream (-j), also by the walk of the hierarchy (a tracer without CAP_DAC_READ_SEARCH,
#    which open_by_handle_at wants) and in a cgroup namespace of its own: every event of a client names its case's container_id, container_runtime,
#    pod_uid, pod_qos and cgroup_path; the server's and the session client's say null;
#  - -H --by container (JSON and text): the count per container equals the alerts its client
#    made, per source; --textfile and --prometheus with --metrics-label container: the series
#    per container_id;
#  - -H --by sni: the clients ask for a server name of their case's (-servername): per name, the
#    count equals that case's alerts. The library events' server name is other work of issue 9:
#    until the openssl source fills it, the library rows carry none and the check says SKIP.
# Tracers and peers enter the namespace with nsenter --net: `ip netns exec` mounts a sysfs of
# its own over /sys, which hides the cgroup hierarchy.
. "$(dirname "$0")/lib/common.sh"
need_root container_id
test_prologue container_id openssl python3 nsenter curl
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
CG=$(awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG" ] || { fail container_id_cgroup2 "no cgroup v2 hierarchy mounted"; exit 1; }
ORIG=$(sed -n 's/^0:://p' /proc/self/cgroup)
BASE_REL=/at_ctr_$$
BASE=$CG$BASE_REL
NS=at_ctr_$$
ip netns add $NS && AT_NETNS+=("$NS") && ip -n $NS link set lo up ||
	{ fail container_id_netns "cannot create a network namespace"; exit 1; }

# Move every process of the test's cgroups back where the test runs, then remove them (deepest
# first), then the rest of the clean-up.
ct_cleanup() {
	local d p
	if [ -d "$BASE" ]; then
		for d in $(find "$BASE" -depth -type d); do
			for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
				echo "$p" >"$CG$ORIG/cgroup.procs" 2>/dev/null ||
					echo "$p" >"$CG/cgroup.procs" 2>/dev/null
			done
			rmdir "$d" 2>/dev/null
		done
	fi
	at_cleanup
}
trap ct_cleanup EXIT

hex64() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
uuid() { cat /proc/sys/kernel/random/uuid; }

# The cases: NAME, the directory under BASE, the id, runtime, pod UID and QoS it names, and how
# many connections its client makes. "-" for none.
declare -A DIR ID RT PUID QOS N SNI
CASES="docker_systemd docker_cgroupfs k8s_burstable_containerd k8s_besteffort_crio \
k8s_guaranteed_cgroupfs podman host_session"
add_case() { # NAME DIR ID RUNTIME UID QOS N
	DIR[$1]=$2 ID[$1]=$3 RT[$1]=$4 PUID[$1]=$5 QOS[$1]=$6 N[$1]=$7 SNI[$1]=${1//_/-}.example
}
i=$(hex64); add_case docker_systemd system.slice/docker-$i.scope $i docker - - 1
i=$(hex64); add_case docker_cgroupfs docker/$i $i docker - - 2
i=$(hex64) u=$(uuid)
add_case k8s_burstable_containerd kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u//-/_}.slice/cri-containerd-$i.scope \
	$i containerd $u burstable 3
i=$(hex64) u=$(uuid)
add_case k8s_besteffort_crio kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u//-/_}.slice/crio-$i.scope \
	$i crio $u besteffort 4
i=$(hex64) u=$(uuid)
add_case k8s_guaranteed_cgroupfs kubepods/pod$u/$i $i cri $u guaranteed 2
i=$(hex64); add_case podman machine.slice/libpod-$i.scope $i podman - - 3
add_case host_session user.slice/user-0.slice/session-7.scope - - - - 2
SRV_DIR=system.slice/at-test-server.service
for c in $CASES; do mkdir -p "$BASE/${DIR[$c]}"; done
mkdir -p "$BASE/$SRV_DIR" || { fail container_id_mkdir "cannot make cgroups under $BASE"; exit 1; }

P=$(( 25000 + RANDOM % 2000 ))
TF=$T/tf/alerttrace.prom
mkdir -p "$T/tf"
# The library hooks see the whole host, where other processes named openssl may make alerts too:
# the judge takes our peers' pids only (-P, --metrics-pid).
NSX=(nsenter --net=/run/netns/$NS)
MP=$((P + 1))
bg "${NSX[@]}" "$AT" -i lo -j --textfile "$TF" --prometheus 127.0.0.1:$MP --metrics-label container \
	--metrics-pid >"$T/stream.out" 2>"$T/stream.err"
A1=$!
bg "${NSX[@]}" "$AT" -i lo -H -P --by container -j >"$T/hj.out" 2>"$T/hj.err"; A2=$!
bg "${NSX[@]}" "$AT" -i lo -H -P --by container,sni >"$T/ht.out" 2>"$T/ht.err"; A3=$!
bg "${NSX[@]}" "$AT" -i lo -H -P --by sni -j >"$T/hs.out" 2>"$T/hs.err"; A4=$!
# Without CAP_DAC_READ_SEARCH the kernel refuses cgroups by file handle: the walk instead.
bg setpriv --bounding-set=-dac_read_search --inh-caps=-dac_read_search "$AT" --no-wire -j \
	>"$T/walk.out" 2>"$T/walk.err"; A5=$!
# A tracer in a cgroup namespace of its own (rooted at its cgroup, three levels down) whose own
# cgroup2 mount shows only that subtree, the whole hierarchy still mounted where it was (as a
# DaemonSet's hostPath volume of /sys/fs/cgroup would be): it must pick the whole one.
mkdir -p "$BASE/system.slice/alerttrace.service" "$T/cgmnt"
bg sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$BASE/system.slice/alerttrace.service" \
	unshare --cgroup --mount --propagation private sh -c 'mount -t cgroup2 none "$1" && shift &&
	exec "$@"' sh "$T/cgmnt" "$AT" --no-wire -j >"$T/cgns.out" 2>"$T/cgns.err"; A6=$!
for f in stream hj ht hs walk cgns; do
	wait_for "$T/$f.err" "Tracing TLS alerts" 30 ||
		{ fail "container_id_${f}_start" "no 'Tracing' line: $(tail -3 "$T/$f.err")"; exit 1; }
done

# The server, moved into its service cgroup before it execs.
bg sh -c 'echo $$ >"$1/cgroup.procs" && cat /proc/$$/cgroup >"$2" && shift 2 && exec "$@"' sh \
	"$BASE/$SRV_DIR" "$T/server.cg" nsenter --net=/run/netns/$NS openssl s_server -WWW \
	-accept 127.0.0.1:$P -cert $C/server.pem -key $C/server.key -tls1_2 </dev/null >"$T/server.out" 2>&1
SPID=$!
wait_for "$T/server.out" ACCEPT 10 || { fail container_id_server "s_server did not start"; exit 1; }

# One client connection of case $1 (number $2): moved, witnessed, then s_client itself.
client() {
	sh -c 'echo $$ >"$1/cgroup.procs" && cat /proc/$$/cgroup >"$2" && echo $$ >"$3" && shift 3 &&
		exec "$@"' sh "$BASE/${DIR[$1]}" "$T/$1.$2.cg" "$T/$1.$2.pid" \
		nsenter --net=/run/netns/$NS openssl s_client -connect 127.0.0.1:$P \
		-servername "${SNI[$1]}" -tls1_2 -verify_return_error -CAfile $C/other-ca.pem -msg \
		</dev/null >"$T/$1.$2.out" 2>&1 &
	local pid=$! wd
	( sleep 10; kill $pid 2>/dev/null ) & wd=$!
	wait $pid
	kill $wd 2>/dev/null; wait $wd 2>/dev/null
}
for c in $CASES; do
	for k in $(seq 1 ${N[$c]}); do client $c $k; done
done
sleep 1.5	# the metrics are published every second
"${NSX[@]}" curl -sf http://127.0.0.1:$MP/metrics >"$T/scrape.prom" ||
	fail container_id_scrape "curl could not read /metrics"
kill $SPID; wait $SPID 2>/dev/null
for a in $A1 $A2 $A3 $A4 $A5 $A6; do kill -INT $a; done
for a in stream:$A1 hj:$A2 ht:$A3 hs:$A4 walk:$A5 cgns:$A6; do
	wait ${a#*:}; rc=$?
	[ $rc = 0 ] || fail "container_id_${a%%:*}_exit" "expected status 0 after SIGINT, got $rc: $(tail -2 "$T/${a%%:*}.err")"
done

# The cases as the judge reads them: one JSON object per case.
{
	echo "{"
	echo "\"base\": \"$BASE_REL\", \"server_dir\": \"$SRV_DIR\", \"server_pid\": $SPID, \"cases\": {"
	sep=
	for c in $CASES; do
		pids=$(cat "$T/$c".*.pid | paste -sd,)
		printf '%s"%s": {"dir": "%s", "id": "%s", "runtime": "%s", "uid": "%s", "qos": "%s", "n": %d, "sni": "%s", "pids": [%s]}\n' \
			"$sep" $c "${DIR[$c]}" "${ID[$c]}" "${RT[$c]}" "${PUID[$c]}" "${QOS[$c]}" "${N[$c]}" "${SNI[$c]}" "$pids"
		sep=,
	done
	echo "}}"
} >"$T/cases.json"
$PY "$TOP/tests/fixtures/container_judge.py" "$T" "$T/cases.json"
