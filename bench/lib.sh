# shellcheck shell=bash disable=SC2034 # C, TPID, TCPU0, TCPU are for the bench that sources it
# Shared by the end-to-end library-path benches (bench_lib.sh, bench_gnutls.sh): source it after
# tests/lib/common.sh (it uses T, AT, bg, wait_for). Not a bench itself: run.sh runs bench_*.sh.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_setup NAME NEEDS TOOL...: a bench's preamble. Without root it says so (NEEDS: what for) and
# exits 0; a missing TOOL or ./alerttrace exits 1; certificates (make_certs) in C=$T/c.
bench_setup() {
	local name=$1 needs=$2 c
	shift 2
	if [ "$(id -u)" != 0 ]; then
		echo "$name: needs root ($needs): run as root" >&2
		exit 0
	fi
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "$name: $c not found: run make deps" >&2; exit 1; }
	done
	[ -x "$AT" ] || { echo "$name: no $AT: run make" >&2; exit 1; }
	make_certs "$T/c" >/dev/null || { echo "$name: cannot make certificates" >&2; exit 1; }
	C=$T/c
}

# bench_tracer NAME MODE: start a fresh tracer for set-up MODE (off: none; lib: --no-wire;
# hist: --no-wire -H, counts in the kernel and nothing streamed; all: -i lo), JSON in $T/at.out,
# stderr in $T/at.err; TPID its pid, or empty for off; TCPU0 its CPU time (ms) once started.
bench_tracer() {
	TPID=
	case $2 in
	off) return 0 ;;
	lib) bg "$AT" --no-wire -j >"$T/at.out" 2>"$T/at.err" ;;
	hist) bg "$AT" --no-wire -H -j >"$T/at.out" 2>"$T/at.err" ;;
	all) bg "$AT" -i lo -j >"$T/at.out" 2>"$T/at.err" ;;
	esac
	TPID=$!
	wait_for "$T/at.err" "Tracing TLS alerts" 20 ||
		{ echo "$1: alerttrace did not start: $(tail -3 "$T/at.err")" >&2; exit 1; }
	TCPU0=$(bench_cpu "$TPID")
}

# bench_cpu PID: the user + system CPU time of PID so far, in ms.
bench_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1000 / hz }' "/proc/$1/stat"
}

# bench_events FILE SOURCE: how many events of SOURCE the tracer reported: one a line, or the sum
# of the "count" fields of a histogram (-H).
bench_events() {
	awk -v src="\"source\":\"$2\"" 'index($0, src) {
		if (match($0, /"count":[0-9]+/)) n += substr($0, RSTART + 8, RLENGTH - 8); else n++
	} END { print n + 0 }' "$1"
}

# bench_stop: end the tracer of the run (if any); SIGINT drains its ring buffer. TCPU: the CPU
# time (ms) it spent since it started tracing.
bench_stop() {
	TCPU=-
	[ -n "$TPID" ] || return 0
	TCPU=$(( $(bench_cpu "$TPID") - TCPU0 ))
	kill -INT "$TPID"
	wait "$TPID"
}

# bench_others: how many alerttrace processes other than the run's own (TPID) run now. Uprobes
# are global: another session's tracer hooks this bench's peers too, "off" runs included.
bench_others() {
	pgrep -x alerttrace | grep -vxc "${TPID:-0}"
}

# bench_order ROUNDS MODE...: "ROUND:MODE" words, every mode once a round, the order rotated by
# one each round (off lib all, lib all off, ...), so that no set-up always runs first.
bench_order() {
	local rounds=$1 r i
	shift
	for r in $(seq 1 "$rounds"); do
		for i in $(seq 0 $(($# - 1))); do
			local k=$(( (i + r - 1) % $# + 1 ))
			echo "$r:${!k}"
		done
	done
}

# bench_kinds FILE SOURCE: the most common events of SOURCE in a run, to show what the hooks did.
bench_kinds() {
	python3 - "$1" "$2" <<-'EOF'
	import collections, json, sys
	c = collections.Counter()
	for line in open(sys.argv[1]):
	    try:
	        e = json.loads(line)
	    except ValueError:
	        continue
	    if e.get("source") == sys.argv[2]:
	        c["%s %s %s %s%s" % (e.get("comm"), e.get("direction"), e.get("alert"), e.get("hook"),
	                             "" if e.get("direction") != "sent" else
	                             " written" if e.get("written") else " not-written")] += 1
	for k, n in c.most_common(4):
	    print("    %6d  %s" % (n, k))
	EOF
}

# bench_summary RESULTS MODE=LABEL...: medians of the "MODE HANDSHAKES/S MB/S" rows of RESULTS
# (written in bench_order's order), the first MODE being the baseline, and their ratios to it.
bench_summary() {
	python3 "$BENCH_DIR/summary.py" "$@"
}
