# shellcheck shell=bash
# Shared by the tests that run alerttrace's library path on other OpenSSL builds
# (tests/t_lib_111.sh, tests/versions/t_*.sh). Source it after tests/lib/common.sh.
# It drives the real ./alerttrace binary (-j, --no-wire) and real TLS peers on 127.0.0.1, and
# checks each session with compare_lib.py once alerttrace has drained and exited.
VDIR=$TOP/tests/versions
LIBDIR=/usr/lib/x86_64-linux-gnu

# s_server ends a session on EOF of its stdin: every server reads a fifo that stays open.
mkfifo "$T/hold" && exec 7<>"$T/hold"

now() { date +%s.%N; }
# elapsed START: seconds since START, one decimal
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }

need_binary() { # NAME
	if [ ! -x "$AT" ]; then
		fail "$1" "expected $AT, got none: run make alerttrace"
		exit 0
	fi
	command -v python3 >/dev/null || { fail "$1" "python3 missing: run make deps"; exit 0; }
}

# wait_fore FILE ERE [SECONDS]: wait_for with an extended regular expression
wait_fore() {
	local _
	for _ in $(seq 1 $((${3:-10} * 20))); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# at_start TAG ARGS...: alerttrace ARGS, stdout in $T/TAG.json, stderr in $T/TAG.err, until it
# says it is ready. Sets AT_PID; returns 1 after a FAIL line.
at_start() {
	local tag=$1 t0; shift
	t0=$(now)
	"$AT" "$@" >"$T/$tag.json" 2>"$T/$tag.err" &
	AT_PID=$!
	AT_PIDS+=("$AT_PID")
	if ! wait_for "$T/$tag.err" 'Tracing TLS alerts' 30; then
		fail "${tag}_alerttrace_starts" "expected the ready line within 30 s, got: $(
			grep -v '^libbpf' "$T/$tag.err" | tail -3 | tr '\n' '|')"
		return 1
	fi
	pass "${tag}_alerttrace_starts ($(elapsed "$t0") s: alerttrace $*)"
}

# at_stop TAG: SIGINT, like Ctrl-C: it must drain the ring buffer and exit 0 within 10 s.
at_stop() {
	local rc t0
	t0=$(now)
	kill -INT "$AT_PID" 2>/dev/null
	if wait_exit "$AT_PID" 10; then rc=$AT_RC; else rc=killed; fi
	if [ "$rc" = 0 ]; then
		pass "$1_alerttrace_exits_0_on_sigint (in $(elapsed "$t0") s)"
	else
		fail "$1_alerttrace_exits_0_on_sigint" "expected status 0 within 10 s, got $rc"
	fi
}

# wait_exit PID SECONDS: reap PID (a child of this shell), its status in AT_RC; 1 when it had to
# be killed.
wait_exit() {
	local _
	for _ in $(seq $(($2 * 20))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null
			AT_RC=$?
			return 0
		fi
		sleep 0.05
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	AT_RC=killed
	return 1
}

# free_port: a port on which nothing listens, TCP or UDP
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[ -z "$(ss -Hltun "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
	done
}

# srv_start LOG CMD...: a server that prints ACCEPT when it listens; SRV_PID is its pid
srv_start() {
	local log=$1
	shift
	"$@" <&7 >"$log" 2>&1 &
	SRV_PID=$!
	AT_PIDS+=("$SRV_PID")
	wait_for "$log" ACCEPT 10
}

# make_ca_certs DIR: ca1 signs srv (CN localhost); ca2 signs nothing (the wrong CA for unknown_ca)
make_ca_certs() {
	local k="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	mkdir -p "$1" && (cd "$1" &&
		openssl req -x509 $k -keyout ca1.key -out ca1.pem -subj /CN=at-ca1 -days 2 &&
		openssl req -x509 $k -keyout ca2.key -out ca2.pem -subj /CN=at-ca2 -days 2 &&
		openssl req $k -keyout srv.key -out srv.csr -subj /CN=localhost &&
		openssl x509 -req -in srv.csr -CA ca1.pem -CAkey ca1.key -CAcreateserial \
			-out srv.pem -days 2) >/dev/null 2>&1
}

# says NAME FILE PATTERN WHAT: the peer's own output must say it (the library's own judgement)
says() {
	if grep -q -- "$3" "$2"; then
		pass "$1 ($4)"
	else
		fail "$1" "expected '$3' in $(basename "$2"), got: $(
			grep -iE 'alert|error|closed|DONE' "$2" | head -3 | tr '\n' '|')"
	fi
}

# checklater TAG ARGS...: queue a compare_lib.py call for the events of alerttrace run TAG
checklater() {
	local tag=$1 a
	shift
	for a in "$@"; do printf '%s\0' "$a"; done >>"$T/$tag.checks"
	printf '\n\0' >>"$T/$tag.checks"
}

# run_checks TAG: every queued call, on $T/TAG.json
run_checks() {
	local args=() a
	[ -f "$T/$1.checks" ] || return 0
	while IFS= read -r -d '' a; do
		if [ "$a" = $'\n' ]; then
			python3 "$VDIR/compare_lib.py" "$T/$1.json" "${args[@]}"
			args=()
		else
			args+=("$a")
		fi
	done <"$T/$1.checks"
}

# lib_events_summary TAG: how many library events alerttrace printed, by lib
lib_events_summary() {
	python3 - "$T/$1.json" <<'PY'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("source") == "openssl":
        c[e.get("lib")] += 1
for lib, n in c.most_common():
    print("   %4d events through %s" % (n, lib))
PY
}
