# Shared by the shell tests: PASS/FAIL/SKIP lines, root check, namespaces, certificates, waits.
# Source it; it sets TOP (the repo) and T (a temp dir removed at exit with everything started).
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# ALERTTRACE_BIN: another build of the loader (make sanitize: ./alerttrace-san).
AT="${ALERTTRACE_BIN:-$TOP/alerttrace}"
# Every test analyses what it hooks afresh: no plan cache of an earlier run (user/tls/plancache.h)
# unless the test asks for one (t_plancache.sh).
export ALERTTRACE_CACHE=${ALERTTRACE_CACHE:-off}
T=$(mktemp -d /tmp/alerttrace-test.XXXXXX)
AT_NETNS=()
AT_PIDS=()

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "$1" "needs root (CAP_BPF, netns): run as root"
		exit 0
	fi
}

at_cleanup() {
	local p ns
	for p in "${AT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in "${AT_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for ns in "${AT_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap at_cleanup EXIT

# bg CMD...: start in the background, remember the pid for cleanup; pid in $!
bg() { "$@" & AT_PIDS+=($!); }

# netns_pair NS_A NS_B ADDR_A ADDR_B: two namespaces joined by veth a0 (in A) <-> b0 (in B),
# IPv4 10.x and IPv6 fd00:: addresses, lo up in both.
netns_pair() {
	local a=$1 b=$2
	ip netns del "$a" 2>/dev/null; ip netns del "$b" 2>/dev/null
	ip netns add "$a" && ip netns add "$b" || return 1
	AT_NETNS+=("$a" "$b")
	ip link add a0 netns "$a" type veth peer name b0 netns "$b" || return 1
	ip -n "$a" addr add "$3/24" dev a0
	ip -n "$b" addr add "$4/24" dev b0
	ip -n "$a" addr add "fd00:77::1/64" dev a0 nodad
	ip -n "$b" addr add "fd00:77::2/64" dev b0 nodad
	# Keep packets small enough that no offload merges records in ways a real NIC would not.
	for n in "$a" "$b"; do ip -n "$n" link set lo up; done
	ip -n "$a" link set a0 up && ip -n "$b" link set b0 up
}

# wait_for FILE PATTERN [SECONDS]: until FILE contains PATTERN
wait_for() {
	local i
	for i in $(seq 1 $(( ${3:-10} * 20 ))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# make_certs DIR: ca.pem/ca.key (trusted), other-ca.pem (a CA that signed nothing used),
# server.pem/server.key signed by ca, client.pem/client.key signed by ca.
make_certs() {
	local d=$1 n
	mkdir -p "$d"
	for n in ca other-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=alerttrace test $n" -keyout "$d/$n.key" -out "$d/$n.pem" 2>/dev/null || return 1
	done
	for n in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
			-keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -out "$d/$n.pem" 2>/dev/null || return 1
	done
}

# test_prologue NAME TOOL...: the tools a test needs and the built binary (a missing one fails
# NAME and exits), certificates (make_certs) in C.
test_prologue() {
	local name=$1 c
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null || { fail "${name}_tools" "$c not found: run make deps"; exit 1; }
	done
	[ -x "$AT" ] || { fail "${name}_build" "no $AT: run make"; exit 1; }
	make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
	C=$T/c
}

# workload_setup NAME TOOL...: what the counting-workload tests share: test_prologue, PY and W
# (tests/fixtures/tls_workload.py), and a fresh network namespace NS with lo up.
workload_setup() {
	local name=$1
	test_prologue "$@"
	PY=/usr/bin/python3
	[ -x $PY ] || PY=$(command -v python3)
	W="$TOP/tests/fixtures/tls_workload.py"
	NS=at_${name}_$$
	ip netns add "$NS" && AT_NETNS+=("$NS") && ip -n "$NS" link set lo up ||
		{ fail "${name}_netns" "cannot create a network namespace"; exit 1; }
}
