#!/bin/bash
# The binary directories' programs prepared beside the tracer (user/tls/binprep.c), on a host's
# first start (an empty plan cache): the tracer is ready before a child process has looked at
# them, and a child that dies (here SIGSEGV, as an analyser crashing on some file would) costs
# the tracer nothing: it says so on stderr, goes on tracing and exits 0 on SIGINT, and no process
# is left behind. The tracer runs in a mount namespace of its own whose /usr/local/bin is a tmpfs
# holding two copies of the system libssl (a TLS library the openssl provider hooks), one without
# its build-id note, so nothing of the host's directories changes. Both must be hooked. t_go.sh judges the hooks such a child prepared by real Go
# clients run from a binary directory.
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

# run NAME: a tracer on an empty plan cache in its own mount namespace; its pid in ATPID.
run() {
	mkdir -m 0700 "$T/pc-$1"
	ALERTTRACE_CACHE=$T/pc-$1 unshare -m --propagation private sh -c \
		'mount -t tmpfs alerttrace-test /usr/local/bin && cp "$1" "$2" && cp "$3" "$4" &&
		chmod 0755 "$2" "$4" && exec "$5" --no-wire -j -v' \
		sh "$LIB" "$PROG" "$NOID" "$PROG2" "$AT" >"$T/$1.out" 2>"$T/$1.err" &
	ATPID=$!
	AT_PIDS+=("$ATPID")
}
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
	echo "      $(grep -o 'binary directories prepared: .*' "$T/first.err")"
else
	fail first_start_child_ends "$(tail -3 "$T/first.err")"
fi
kill -INT "$ATPID"; wait "$ATPID"; check first_start_exit_0 0 $?
n=$(ls "$T/pc-first" | grep -c '^plans-')
[ "$n" = 1 ] && [ -s "$T/pc-first/$(ls "$T/pc-first")" ] && pass first_start_plan_cache_written ||
	fail first_start_plan_cache_written "$(ls -la "$T/pc-first")"

# 2. The child killed by SIGSEGV while it works.
run crash
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

# 3. SIGINT while the child works: it ends with the tracer.
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
