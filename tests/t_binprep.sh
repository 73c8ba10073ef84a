#!/bin/bash
# The binary directories' programs prepared beside the tracer (user/tls/binprep.c), on a host's
# first start (an empty plan cache): the tracer is ready before a child process has looked at
# them, and a child that dies (here SIGSEGV, as an analyser crashing on some file would) costs
# the tracer nothing: it says so on stderr, goes on tracing and exits 0 on SIGINT, and no process
# is left behind. The tracer runs in a mount namespace of its own whose /usr/local/bin is a
# directory of the test's (bound over it: the same files, inodes and times in every run) holding
# two copies of the system libssl (a TLS library the openssl provider hooks), one with a build-id
# of its own, one without its build-id note, and a Go program without crypto/tls (gofmt, which
# the go provider refuses), so nothing of the host's directories changes. Both copies must be
# hooked. A start on the plan cache of the first hands the child nothing: every look, plan and
# refusal was kept. t_go.sh judges the hooks such a child prepared by real Go clients run from a
# binary directory.
. "$(dirname "$0")/lib/common.sh"
need_root binprep
test_prologue binprep unshare objcopy readelf
LIB=$(realpath /usr/lib/x86_64-linux-gnu/libssl.so.3)
PROG=/usr/local/bin/at-binprep-$$

# A second copy without its build-id note: its plan is never a plan cache record, so the tracer
# analyses it itself once the child has looked at it.
NOID=$T/libssl-noid
objcopy --remove-section .note.gnu.build-id "$LIB" "$NOID" && ! readelf -n "$NOID" | grep -q "Build ID" ||
	{ fail binprep_noid_copy "cannot make a copy of $LIB without a build-id"; exit 1; }
PROG2=/usr/local/bin/at-binprep-noid-$$
GOFMT=/usr/lib/go-1.19/bin/gofmt # golang-go (tools/deps.sh)
PROG3=/usr/local/bin/at-binprep-gofmt-$$
[ -x "$GOFMT" ] || { fail binprep_gofmt "no $GOFMT"; exit 1; }
# The first copy with a build-id of its own: no plan of the tracer's (the system libssl's) is
# its, so the child analyses it.
BIN=$T/bin
mkdir "$BIN" && python3 - "$LIB" "$BIN/${PROG##*/}" "$(readelf -n "$LIB" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')" <<'EOF' &&
import sys
src, dst, old = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
data = open(src, "rb").read()
assert data.count(old) == 1, "build-id found %d times" % data.count(old)
open(dst, "wb").write(data.replace(old, (b"atbinprep" + old)[:len(old)]))
EOF
	cp "$NOID" "$BIN/${PROG2##*/}" &&
	cp "$GOFMT" "$BIN/${PROG3##*/}" && chmod 0755 "$BIN"/* ||
	{ fail binprep_bin_dir "cannot fill $BIN"; exit 1; }

# run NAME [CACHE]: a tracer on an empty plan cache (or the one of run CACHE) in its own mount
# namespace; its pid in ATPID.
run() {
	local pc=$T/pc-${2:-$1}
	[ -d "$pc" ] || mkdir -m 0700 "$pc"
	ALERTTRACE_CACHE=$pc unshare -m --propagation private sh -c \
		'mount --bind "$1" /usr/local/bin && exec "$2" --no-wire -j -v' \
		sh "$BIN" "$AT" >"$T/$1.out" 2>"$T/$1.err" &
	ATPID=$!
	AT_PIDS+=("$ATPID")
}
# report NAME PATH: PATH's library record in NAME's coverage report, "" when none.
report() { grep "^{\"type\":\"library\".*\"path\":\"$2\"" "$T/$1.err" | tail -1; }
# line NAME PATTERN: the first line of NAME's stderr matching PATTERN, 0 when none.
line() { grep -n -m1 "$2" "$T/$1.err" | cut -d: -f1 | grep . || echo 0; }

# 1. First start: the child is handed the programs before the ready line and ends after it.
run first
if wait_for "$T/first.err" "binary directories prepared" 30; then
	r=$(line first "Tracing TLS alerts") h=$(line first "programs of the binary directories to look at")
	d=$(line first "binary directories prepared")
	[ "$h" -gt 0 ] && [ "$h" -lt "$r" ] && [ "$r" -lt "$d" ] && pass first_start_ready_before_the_child_ended ||
		fail first_start_ready_before_the_child_ended "lines: handed $h, ready $r, prepared $d"
	k=$(sed -n 's/.*binary directories prepared: .* \([0-9]*\) hooked.*/\1/p' "$T/first.err")
	[ "${k:-0}" -ge 1 ] && pass "first_start_child_prepared_programs_hooked ($k)" ||
		fail first_start_child_prepared_programs_hooked "$(grep 'prepared:' "$T/first.err")"
	for p in "$PROG" "$PROG2"; do
		k=$([ "$p" = "$PROG" ] && echo program || echo program_without_build_id)
		n=$(grep -c "libs: $p: openssl .*probes attached" "$T/first.err")
		[ "$n" = 1 ] && pass "first_start_${k}_hooked" ||
			fail "first_start_${k}_hooked" "$n lines: $(grep "$p" "$T/first.err" | head -2)"
		n=$(grep -c "\"path\":\"$p\".*\"provider\":\"openssl\"\|\"provider\":\"openssl\".*\"path\":\"$p\"" "$T/first.err")
		[ "$n" -ge 1 ] && pass "first_start_${k}_in_the_report" ||
			fail "first_start_${k}_in_the_report" "no library record for $p: $(grep "$p" "$T/first.err" | head -2)"
	done
	# The copy with a build-id was analysed by the child (the plan cache was empty): reported
	# as that analysis, not as a cached one.
	r=$(report first "$PROG")
	case $r in
	*'"cached":false'*) pass first_start_child_analysis_not_cached ;;
	*) fail first_start_child_analysis_not_cached "$r" ;;
	esac
	us=$(sed -n 's/.*"analysis_us":\([0-9]*\).*/\1/p' <<<"$r")
	[ "${us:-0}" -gt 0 ] && pass "first_start_child_analysis_time ($us us)" ||
		fail first_start_child_analysis_time "$r"
	# gofmt's refusal came from the child as a record: the tracer took it without a file read.
	grep -q "libs: $PROG3: go, prepared in" "$T/first.err" && pass first_start_gofmt_refusal_from_the_child ||
		fail first_start_gofmt_refusal_from_the_child "$(grep "$PROG3" "$T/first.err" | head -2)"
	echo "      $(grep -o 'binary directories prepared: .*' "$T/first.err")"
else
	fail first_start_child_ends "$(tail -3 "$T/first.err")"
fi
kill -INT "$ATPID"; wait "$ATPID"; check first_start_exit_0 0 $?
n=$(ls "$T/pc-first" | grep -c '^plans-')
[ "$n" = 1 ] && [ -s "$T/pc-first/$(ls "$T/pc-first")" ] && pass first_start_plan_cache_written ||
	fail first_start_plan_cache_written "$(ls -la "$T/pc-first")"

# 2. A start on the first run's plan cache: every program's look and plan (gofmt's refusal
# included) is there, so no child is made, and both copies are hooked before the ready line.
run warm first
if wait_for "$T/warm.err" "Tracing TLS alerts" 30; then
	sleep 0.5
	n=$(grep -c "programs of the binary directories to look at\|binary directories prepared" "$T/warm.err")
	check warm_start_no_child 0 "$n"
	r=$(line warm "Tracing TLS alerts")
	for p in "$PROG" "$PROG2"; do
		k=$([ "$p" = "$PROG" ] && echo program || echo program_without_build_id)
		h=$(line warm "libs: $p: openssl .*probes attached")
		[ "$h" -gt 0 ] && [ "$h" -lt "$r" ] && pass "warm_start_${k}_hooked_before_ready" ||
			fail "warm_start_${k}_hooked_before_ready" "lines: hooked $h, ready $r"
	done
	case $(report warm "$PROG") in
	*'"cached":true'*) pass warm_start_program_cached ;;
	*) fail warm_start_program_cached "$(report warm "$PROG")" ;;
	esac
	grep -q "libs: $PROG3: go, prepared in" "$T/warm.err" && pass warm_start_gofmt_refusal_cached ||
		fail warm_start_gofmt_refusal_cached "$(grep "$PROG3" "$T/warm.err" | head -2)"
else
	fail warm_start_ready "$(tail -3 "$T/warm.err")"
fi
kill -INT "$ATPID"; wait "$ATPID"; check warm_start_exit_0 0 $?

# 3. The child killed by SIGSEGV while it works.
# (Under make sanitize, ASan would catch the signal and exit 99 instead: not for this child.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0 run crash
if wait_for "$T/crash.err" "pid [0-9]* prepares them" 20; then
	c=$(sed -n 's/.*pid \([0-9]*\) prepares them.*/\1/p' "$T/crash.err")
	kill -SEGV "$c"
	wait_for "$T/crash.err" "ended by signal 11" 10 && pass crash_said_on_stderr ||
		fail crash_said_on_stderr "$(tail -3 "$T/crash.err")"
	sleep 0.3
	kill -0 "$ATPID" 2>/dev/null && pass crash_tracer_goes_on ||
		fail crash_tracer_goes_on "the tracer ended: $(tail -3 "$T/crash.err")"
	kill -INT "$ATPID"; wait "$ATPID"; check crash_tracer_exit_0 0 $?
	[ -e "/proc/$c" ] && fail crash_nothing_left "pid $c is still there" || pass crash_nothing_left
else
	fail crash_child_started "$(tail -3 "$T/crash.err")"
	kill -INT "$ATPID"; wait "$ATPID"
fi

# 4. SIGINT while the child works: it ends with the tracer.
run stop
if wait_for "$T/stop.err" "pid [0-9]* prepares them" 20; then
	c=$(sed -n 's/.*pid \([0-9]*\) prepares them.*/\1/p' "$T/stop.err")
	wait_for "$T/stop.err" "Tracing TLS alerts" 20
	kill -INT "$ATPID"; wait "$ATPID"; check stop_tracer_exit_0 0 $?
	[ -e "/proc/$c" ] && fail stop_nothing_left "pid $c is still there" || pass stop_nothing_left
	grep -q "binary directories prepared\|ended by" "$T/stop.err" &&
		fail stop_child_cut_short "the child ended before the stop: $(grep 'prepared:' "$T/stop.err")" ||
		pass stop_child_cut_short
else
	fail stop_child_started "$(tail -3 "$T/stop.err")"
	kill -INT "$ATPID"; wait "$ATPID"
fi
