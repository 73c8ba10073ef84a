# shellcheck shell=bash disable=SC2034 # C, TPID, TCPU0, TCPU are for the bench that sources it
# Shared by the end-to-end library-path benches (bench_lib.sh, bench_gnutls.sh, bench_go.sh):
# source it after tests/lib/common.sh (it uses T, AT, bg, wait_for). Not a bench itself: run.sh
# runs bench_*.sh.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_setup NAME NEEDS TOOL...: a bench's preamble. Without root it says so (NEEDS: what for) and
# exits 0; a missing TOOL or ./alerttrace exits 1; certificates (make_certs) in C=$T/c; BENCH=NAME
# for the messages of the functions below.
bench_setup() {
	local name=$1 needs=$2 c
	shift 2
	BENCH=$name
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

# bench_tracer NAME MODE: start a fresh tracer for set-up MODE (off: none; lib: --no-wire; noaddr:
# the same without the reads of the connection's socket (ALERTTRACE_NO_ADDRS=1);
# hist: --no-wire -H, counts in the kernel and nothing streamed; all: -i lo; rawacc: the same with
# the accepting task from the raw tracepoint sys_exit (ALERTTRACE_ACCEPT_RAW=1); bpftrace: the
# bpftrace program $BENCH_BPFTRACE instead), JSON in $T/at.out, stderr in $T/at.err; TPID its pid, or empty for off; TCPU0 its CPU time (ms) once started.
bench_tracer() {
	local at=("$AT" ${BENCH_AT_ARGS:-})
	TPID=
	: >"$T/at.err" # as bench_at does
	# BENCH_NETNS: the tracer enters that network namespace only (its lo; tracefs stays).
	[ -n "${BENCH_NETNS:-}" ] && at=(nsenter --net="/run/netns/$BENCH_NETNS" "${at[@]}")
	case $2 in
	off) return 0 ;;
	lib) bg "${at[@]}" --no-wire -j >"$T/at.out" 2>"$T/at.err" ;;
	noaddr) ALERTTRACE_NO_ADDRS=1 bg "${at[@]}" --no-wire -j >"$T/at.out" 2>"$T/at.err" ;;
	hist) bg "${at[@]}" --no-wire -H -j >"$T/at.out" 2>"$T/at.err" ;;
	all) bg "${at[@]}" -i lo -j >"$T/at.out" 2>"$T/at.err" ;;
	rawacc) ALERTTRACE_ACCEPT_RAW=1 bg "${at[@]}" -i lo -j >"$T/at.out" 2>"$T/at.err" ;;
	noacc) ALERTTRACE_NO_ACCEPT=1 bg "${at[@]}" -i lo -j >"$T/at.out" 2>"$T/at.err" ;;
	bpftrace)
		# BEGIN runs once every probe is attached.
		: >"$T/at.out"
		bg bpftrace -e "BEGIN { printf(\"Tracing TLS alerts (bpftrace)\\n\"); } $BENCH_BPFTRACE" \
			>"$T/at.err" 2>"$T/at.bpftrace" ;;
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

# bench_events FILE SOURCE [COMM]: how many events of SOURCE (of processes named COMM only, if
# given) the tracer reported: one a line, or the sum of the "count" fields of a histogram (-H).
bench_events() {
	awk -v src="\"source\":\"$2\"" -v comm="${3:+\"comm\":\"$3\"}" '
	index($0, src) && (comm == "" || index($0, comm)) {
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

# bench_rate CMD...: "RATE CONNECTIONS" of a handshake loop CMD that prints "COUNT ELAPSED_S"
# (gnutls_peer hs, go_peer hs); "0 0" and the last of its stderr ($T/peer.err) if it made none.
bench_rate() {
	local n s
	read -r n s _ < <("$@" 2>>"$T/peer.err")
	if [ -z "${n:-}" ] || [ "$n" -eq 0 ]; then
		echo "$BENCH: hs: $(tail -2 "$T/peer.err")" >&2
		echo "0 0"
		return
	fi
	awk -v n="$n" -v s="$s" 'BEGIN { printf "%.1f %d\n", n / s, n }'
}

# bench_mbs BYTES CMD...: MB/s (10^6 bytes) over 3 runs of CMD, each printing "BYTES ELAPSED_S"
# (gnutls_peer bulk, go_peer bulk); a run that read other than BYTES does not count.
bench_mbs() {
	local want=$1 i
	shift
	for i in 1 2 3; do
		"$@" 2>>"$T/peer.err"
	done | awk -v want="$want" '$1 == want { b += $1; t += $2 }
		END { printf "%.1f\n", (t > 0 ? b / t / 1e6 : 0) }'
}

# bench_rounds SOURCE ROUNDS MODE...: the runs of an end-to-end bench in bench_order's order, a
# fresh tracer each (bench_tracer): the bench's own `handshakes` (prints "RATE CONNECTIONS") and
# `bulk` (prints MB/s), then the tracer's SOURCE events (of processes named BENCH_COMM only, if
# set: another session's programs fire the same hooks) and CPU time. A table row a run; "MODE
# RATE MB/S" rows in $T/results (bench_summary); the commonest events of the first lib run in
# $T/kinds (bench_legend).
bench_rounds() {
	local src=$1 rounds=$2 row='%-6s %-8s %14s %12s %12s %10s %10s %7s\n' rm r m hs n mb o1 o2 ev
	shift 2
	# shellcheck disable=SC2059 # the format is the row's
	printf "$row" round mode "handshakes/s" connections "bulk MB/s" events "tracer ms" others
	: >"$T/results"
	for rm in $(bench_order "$rounds" "$@"); do
		r=${rm%%:*} m=${rm#*:}
		bench_tracer "$BENCH" "$m"
		o1=$(bench_others)
		read -r hs n < <(handshakes)
		mb=$(bulk)
		o2=$(bench_others)
		ev=- TCPU=-
		if [ -n "$TPID" ]; then
			bench_stop
			ev=$(bench_events "$T/at.out" "$src" "${BENCH_COMM:-}")
			[ "$m" = lib ] && [ ! -e "$T/kinds" ] && bench_kinds "$T/at.out" "$src" >"$T/kinds"
		fi
		# shellcheck disable=SC2059
		printf "$row" "$r" "$m" "$hs" "$n" "$mb" "$ev" "$TCPU" "$((o1 > o2 ? o1 : o2))"
		echo "$m $hs $mb" >>"$T/results"
	done
}

# bench_legend SECONDS WHAT: what bench_rounds' "tracer ms" and "others" columns mean (SECONDS of
# handshakes a run), then the commonest WHAT events of the first lib run.
bench_legend() {
	echo "tracer ms: the tracer's user + system CPU time while it traced (of ~2 x $1 s of CPU"
	echo "the peers had; the machine has $(nproc) cores). others: alerttrace processes not this"
	echo "bench's at the start or end of the run (their uprobes fire on these peers too)."
	echo "the most common $2 events of the first lib run:"
	cat "$T/kinds" 2>/dev/null
}

# bench_summary RESULTS MODE=LABEL...: medians of the "MODE HANDSHAKES/S MB/S" rows of RESULTS
# (written in bench_order's order), the first MODE being the baseline, and their ratios to it.
bench_summary() {
	BENCH=$BENCH python3 "$BENCH_DIR/summary.py" "$@"
}

# bench_headline TEXT...: one line of `make bench`'s closing summary: appended to $BENCH_SUMMARY
# (run.sh sets it; a bench run alone just prints it), prefixed with the bench's name.
bench_headline() {
	echo "summary: $*"
	[ -n "${BENCH_SUMMARY:-}" ] && printf '%-16s %s\n' "$BENCH" "$*" >>"$BENCH_SUMMARY"
	return 0
}

# bench_sched_ms PID: the CPU time of all of PID's threads so far, in ms (schedstat: ns, not
# ticks, so short runs are not rounded to 10 ms).
bench_sched_ms() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $1 } END { printf "%d\n", n / 1e6 }'
}

# bench_wakeups PID: the times PID's threads went to sleep and were woken (voluntary context
# switches, summed over its threads).
bench_wakeups() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# bench_bpf_ns PID [TYPE]: the summed run_time_ns of PID's BPF program fds of prog_type TYPE
# (default 3, sched_cls; "any" for all). Needs kernel.bpf_stats_enabled (bench_bpf_stats).
bench_bpf_ns() {
	local f n=0 t v
	for f in /proc/"$1"/fdinfo/*; do
		t=$(awk '$1 == "prog_type:" { print $2 }' "$f" 2>/dev/null)
		[ -n "$t" ] || continue
		[ "${2:-3}" = any ] || [ "$t" = "${2:-3}" ] || continue
		v=$(awk '$1 == "run_time_ns:" { print $2 }' "$f")
		n=$((n + ${v:-0}))
	done
	echo "$n"
}

# bench_bpf_stats: kernel.bpf_stats_enabled on for the bench, its old value restored at exit.
bench_bpf_stats() {
	OLD_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)
	trap 'echo "$OLD_STATS" >/proc/sys/kernel/bpf_stats_enabled; at_cleanup' EXIT
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
}

# bench_ossl_server: one `openssl s_server -WWW` on 127.0.0.1:$PORT (a free port_block) for the
# whole bench, serving $T/www/big.bin (256 MiB); needs tests/fixtures/lib_path.sh and C.
bench_ossl_server() {
	mkdir -p "$T/www"
	head -c $((256 << 20)) /dev/urandom >"$T/www/big.bin"
	PORT=$(port_block 1)
	sleep 100000 | (cd "$T/www" && exec openssl s_server -WWW -accept "127.0.0.1:$PORT" \
		-cert "$C/server.pem" -key "$C/server.key") >"$T/srv.log" 2>&1 &
	AT_PIDS+=("$!" "$(jobs -p %%)")
	wait_for "$T/srv.log" ACCEPT 10 ||
		{ echo "$BENCH: s_server: $(tail -3 "$T/srv.log")" >&2; exit 1; }
}

# bench_ossl_loops SECONDS: bench_ossl_server, and the bench's `handshakes` (SECONDS of
# bench_ossl_handshakes) and `bulk` (bench_ossl_bulk).
bench_ossl_loops() {
	OSSL_SECS=$1
	bench_ossl_server
	handshakes() { bench_ossl_handshakes "$OSSL_SECS"; }
	bulk() { bench_ossl_bulk; }
}

# bench_ossl_handshakes SECONDS: "RATE CONNECTIONS" of one `openssl s_time -new` run against
# bench_ossl_server (wall-clock rate, measured here: s_time's own is whole seconds). Every
# connection ends with an alert from the server (s_time closes without a close_notify: the server
# answers the early EOF with decode_error).
bench_ossl_handshakes() {
	local t0 t1 n
	t0=$(date +%s%N)
	openssl s_time -connect "127.0.0.1:$PORT" -new -time "$1" >"$T/stime.out" 2>&1
	t1=$(date +%s%N)
	n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' "$T/stime.out")
	[ -n "$n" ] || { echo "$BENCH: s_time: $(tail -2 "$T/stime.out")" >&2; echo "0 0"; return; }
	awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f %d\n", n / ((t1 - t0) / 1e9), n }'
}

# bench_ossl_bulk: MB/s (10^6 bytes) over 3 curl fetches of bench_ossl_server's file.
bench_ossl_bulk() {
	local i
	for i in 1 2 3; do
		curl -sk -o /dev/null -w '%{size_download} %{time_total}\n' \
			"https://127.0.0.1:$PORT/big.bin"
	done | awk '{ b += $1; t += $2 } END { printf "%.1f\n", (t > 0 ? b / t / 1e6 : 0) }'
}

# bench_private_lo: the bench's alerts on the lo of a network namespace of its own (BENCH_NS;
# removed at exit), where bench_alert_reader and bench_at run and "${BENCH_IN[@]}" CMD runs CMD
# (as the same process: its pid is CMD's): another session's storm on the host's lo (its tests,
# its benches) neither reaches this bench's tracer nor counts in it.
BENCH_IN=()
bench_private_lo() {
	BENCH_NS=atbench$$
	ip netns add "$BENCH_NS" || { echo "$BENCH: cannot create a network namespace" >&2; exit 1; }
	AT_NETNS+=("$BENCH_NS")
	ip -n "$BENCH_NS" link set lo up
	BENCH_IN=(ip netns exec "$BENCH_NS")
}

# bench_alert_reader: a reader on 127.0.0.1:$PORT (a free port_block; needs
# tests/fixtures/lib_path.sh) that accepts connections one after another and reads each to its end:
# the far side of the plaintext alert storms of bench_pipeline.sh and bench_loss.sh.
bench_alert_reader() {
	PORT=$(port_block 1)
	"${BENCH_IN[@]}" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(8); print('ready', flush=True)
while True:
    c, _ = s.accept()
    while c.recv(65536): pass
    c.close()" >"$T/reader.out" 2>&1 &
	AT_PIDS+=("$!")
	wait_for "$T/reader.out" ready 10 || { echo "$BENCH: reader did not start" >&2; exit 1; }
}

# bench_at ARGS...: a fresh `alerttrace ARGS...` in the background (in BENCH_NS if there is one), events in $T/at.out, stderr in
# $T/at.err, its pid in TPID; returns once it is ready (exits the bench if it does not start).
bench_at() {
	# Emptied here, not by the background job's redirection: wait_for could otherwise find the
	# last run's ready line before the new tracer truncated the file, and the run start while
	# the tracer still loads its programs (seen in 200-750 ms of its CPU and alerts missed).
	: >"$T/at.err"
	"${BENCH_IN[@]}" "$AT" "$@" >"$T/at.out" 2>"$T/at.err" &
	TPID=$!
	AT_PIDS+=("$TPID")
	wait_for "$T/at.err" "Tracing TLS alerts" 20 ||
		{ echo "$BENCH: alerttrace did not start: $(tail -2 "$T/at.err")" >&2; exit 1; }
}
