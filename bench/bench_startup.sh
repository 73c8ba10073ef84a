#!/bin/bash
# Start-up and memory of the tracer:
#   ready     exec to the "Tracing TLS alerts" line on stderr, for the defaults (lo and the
#             default-route interfaces, every library), --no-lib and --no-wire; ROUNDS rounds
#             in a rotating order, the line read from a pipe as it comes. With OLD=PATH (another
#             build of alerttrace, e.g. one of main before a change) both binaries run each mode
#             in the same rotation, and the ratio old/new of the medians is printed. "warm" is
#             the defaults with the plan cache of an earlier run (ALERTTRACE_CACHE, filled by one
#             run first); every other mode runs without it, as on a host's first start.
#   phases    the start-up phases `-v` times (the TC object's load with its verified
#             instructions, the socket owners, each library object, the first scan), medians
#             over ROUNDS runs of --no-lib and of the defaults.
#   hook N    one python3 process holding N distinct copies of libssl.so.3 (new inodes, as
#             bench_shutdown.sh does), N = 1, 10, 50; `alerttrace --no-wire -j` started after it:
#             the time from exec until the coverage report lists all N copies hooked, and the
#             copies' analysis_us. Two kinds of copies, interleaved: "same" (the system file's
#             build-id, already analysed for the system libssl: every copy cached) and "distinct"
#             (each copy's build-id note changed to a value of its own: every copy analysed
#             from scratch, as N different builds would be).
#   rss       VmHWM (peak RSS, /proc/PID/status) of `alerttrace -i lo --no-lib -j` (stream) and
#             of the same with -H, once ready and after a storm of STORM plaintext alert records
#             sent as fast as one client can over lo. --no-lib: with the library source the peak
#             is the analysis of the host's programs at start (the ready table's VmHWM), which
#             would hide what the storm adds.
# Figures only, never PASS/FAIL.
# Usage: [OLD=PATH] bench/bench_startup.sh [ROUNDS [STORM]]   (default 3 rounds, 100000 alerts)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
. "$TOP/bench/lib.sh"
ROUNDS=${1:-3}
STORM=${2:-100000}
bench_setup bench_startup "uprobes, TC" python3 readelf ss
. "$TOP/tests/fixtures/lib_path.sh"
LIB=/usr/lib/x86_64-linux-gnu/libssl.so.3

OLD=${OLD:-}
[ -z "$OLD" ] || [ -x "$OLD" ] || { echo "bench_startup: OLD=$OLD is not executable" >&2; exit 1; }

# ready BINARY ARGS...: ms from exec to the ready line, and the tracer's VmHWM then (kB).
ready() {
	python3 - "$@" <<-'EOF'
	import signal, subprocess, sys, time
	t0 = time.monotonic()
	p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
	ms = -1
	for line in p.stderr:
	    if b"Tracing TLS alerts" in line:
	        ms = (time.monotonic() - t0) * 1000
	        break
	hwm = [l.split()[1] for l in open("/proc/%d/status" % p.pid) if l.startswith("VmHWM")]
	p.send_signal(signal.SIGINT)
	p.stderr.read()
	p.wait()
	print("%.0f %s" % (ms, hwm[0] if hwm else "-"))
	EOF
}

echo "bench_startup: $ROUNDS rounds; $(nproc) cores; $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== exec to ready line (ms), VmHWM at ready (kB)${OLD:+; old: $OLD}"
printf '%-6s %-4s %-10s %10s %10s\n' round bin mode "ready ms" "VmHWM kB"
: >"$T/ready"
modes="new:defaults new:warm new:no-lib new:no-wire"
[ -z "$OLD" ] || modes="new:defaults old:defaults new:warm old:warm new:no-lib old:no-lib new:no-wire old:no-wire"
mkdir -m 0700 "$T/pc"
ALERTTRACE_CACHE=$T/pc ready "$AT" >/dev/null
# the old binary's in a directory of its own: a tracer removes the plan files of other builds
[ -z "$OLD" ] || { mkdir -m 0700 "$T/pc-old" && ALERTTRACE_CACHE=$T/pc-old ready "$OLD" >/dev/null; }
for rm in $(bench_order "$ROUNDS" $modes); do
	r=${rm%%:*} bm=${rm#*:}
	b=${bm%%:*} m=${bm#*:}
	cache=off
	case $m in
	defaults) args=() ;;
	warm) args=() cache=$T/pc ;;
	no-lib) args=(--no-lib) ;;
	no-wire) args=(--no-wire) ;;
	esac
	bin=$AT
	[ "$b" = old ] && bin=$OLD && [ "$cache" != off ] && cache=$T/pc-old
	read -r ms hwm < <(ALERTTRACE_CACHE=$cache ready "$bin" ${args[@]+"${args[@]}"})
	printf '%-6s %-4s %-10s %10s %10s\n' "$r" "$b" "$m" "$ms" "$hwm"
	echo "$b:$m $ms $hwm" >>"$T/ready"
done

# phases ARGS...: the "start-up: WHAT in MS ms" lines of one -v run, as "WHAT|MS|" (an object's
# load as "NAME load|MS|INSNS", INSNS its first program's verified instructions).
phases() {
	python3 - "$AT" "$@" <<-'EOF'
	import re, signal, subprocess, sys
	p = subprocess.Popen(sys.argv[1:] + ["-v"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
	for line in p.stderr:
	    line = line.decode(errors="replace")
	    m = re.match(r"start-up: (\S+) loaded in ([0-9.]+) ms:(?: \S+ (\d+) insns)?", line)
	    if m:
	        print("%s load|%s|%s" % (m.group(1), m.group(2), m.group(3) or ""))
	        continue
	    m = re.match(r"start-up: owners of \d+ existing TCP sockets read in ([0-9.]+) ms", line)
	    if m:
	        print("owners seed|%s|" % m.group(1))
	        continue
	    m = re.match(r"start-up: (.*) in ([0-9.]+) ms \(([0-9.]+) ms since start\)", line)
	    if m:
	        print("%s|%s|" % (m.group(1), m.group(2)))
	        if m.group(1) == "ready":
	            print("total to ready|%s|" % m.group(3))
	            break
	p.send_signal(signal.SIGINT)
	p.stderr.read()
	p.wait()
	EOF
}
: >"$T/phases"
for rm in $(bench_order "$ROUNDS" no-lib defaults); do
	m=${rm#*:}
	if [ "$m" = no-lib ]; then phases --no-lib; else phases; fi | sed "s/^/$m|/" >>"$T/phases"
done
echo "== start-up phases (-v), median (min-max) of $ROUNDS runs each"
python3 - "$T/phases" <<'EOF'
import collections, statistics, sys
ms, insns, order = collections.defaultdict(list), {}, []
for line in open(sys.argv[1]):
    mode, what, t, n = line.rstrip("\n").split("|")
    k = (mode, what)
    if k not in ms:
        order.append(k)
    ms[k].append(float(t))
    if n:
        insns[k] = n
for k in order:
    v = ms[k]
    print("%-9s %-58s %7.1f ms (%.1f-%.1f)%s" % (k[0], k[1], statistics.median(v), min(v), max(v),
          ", %s insns verified" % insns[k] if k in insns else ""))
EOF

# copies N KIND: N copies of LIB in $T/lib/K/, build-ids changed for KIND distinct.
copies() {
	local k id
	rm -rf "${T:?}/lib" && mkdir -p "$T/lib"
	id=$(readelf -n "$LIB" | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')
	for k in $(seq 1 "$1"); do
		mkdir "$T/lib/$k" && cp -L "$LIB" "$T/lib/$k/" || return 1
		[ "$2" = distinct ] || continue
		python3 - "$T/lib/$k/libssl.so.3" "$id" "$k" <<-'EOF' || return 1
		import sys
		path, old, k = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
		data = open(path, "rb").read()
		assert data.count(old) == 1, "build-id found %d times" % data.count(old)
		new = (b"at%06d" % k + old)[:len(old)]
		open(path, "wb").write(data.replace(old, new))
		EOF
	done
}

# hook N KIND: prints "MS_ALL_HOOKED ANALYSIS_US_MEDIAN ANALYSIS_US_MAX CACHED_COUNT"
hook() {
	local n=$1 pp
	copies "$n" "$2" || { echo "bench_startup: cannot copy $LIB" >&2; exit 1; }
	python3 -c "
import ctypes, time
for k in range(1, $n + 1): ctypes.CDLL('$T/lib/%d/libssl.so.3' % k)
print('ready', flush=True)
time.sleep(120)" >"$T/py.out" 2>&1 &
	pp=$!
	AT_PIDS+=("$pp")
	wait_for "$T/py.out" ready 20 || { echo "bench_startup: python3: $(cat "$T/py.out")" >&2; exit 1; }
	python3 - "$AT" "$T/lib/" "$n" <<-'EOF'
	import json, signal, statistics, subprocess, sys, time
	at, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
	t0 = time.monotonic()
	p = subprocess.Popen([at, "--no-wire", "-j"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
	seen, ms = {}, -1
	for line in p.stderr:
	    try:
	        e = json.loads(line)
	    except ValueError:
	        continue
	    if e.get("type") == "library" and e.get("path", "").startswith(prefix) and e.get("sent"):
	        seen[e["path"]] = e
	        if len(seen) == n:
	            ms = (time.monotonic() - t0) * 1000
	            break
	p.send_signal(signal.SIGINT)
	p.stderr.read()
	p.wait()
	us = [e.get("analysis_us", 0) for e in seen.values()]
	print("%.0f %d %d %d" % (ms, statistics.median(us) if us else -1, max(us) if us else -1,
	                         sum(1 for e in seen.values() if e.get("cached"))))
	EOF
	kill "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
}

echo "== N copies of libssl held by one process: exec until all N hooked, their analysis_us"
printf '%-6s %-4s %-9s %12s %14s %12s %8s\n' round N kind "all hooked ms" "analysis_us med" max cached
: >"$T/hook"
for r in $(seq 1 "$ROUNDS"); do
	for n in 1 10 50; do
		order="same distinct"
		[ $((r % 2)) = 0 ] && order="distinct same"
		for kind in $order; do
			read -r ms med max cached < <(hook "$n" "$kind")
			printf '%-6s %-4s %-9s %12s %14s %12s %8s\n' "$r" "$n" "$kind" "$ms" "$med" "$max" "$cached"
			echo "$n $kind $ms $med $max $cached" >>"$T/hook"
		done
	done
done

# rss MODE: VmHWM (kB) at ready and after the storm; the alerts the tracer saw.
bench_alert_reader
rss() {
	local args=(-i lo --no-lib -j) h0 h1 seen
	[ "$1" = hist ] && args+=(-H)
	bench_at "${args[@]}"
	sleep 0.5
	h0=$(awk '$1 == "VmHWM:" { print $2 }' /proc/$TPID/status)
	python3 -c "
import socket
c = socket.create_connection(('127.0.0.1', $PORT))
rec = bytes([0x15, 3, 3, 0, 2, 1, 90]) * 50
for _ in range($STORM // 50): c.sendall(rec)
c.close()"
	sleep 1
	h1=$(awk '$1 == "VmHWM:" { print $2 }' /proc/$TPID/status)
	kill -INT "$TPID"
	wait "$TPID"
	seen=$(bench_events "$T/at.out" wire)
	# The events the tracer said it lost (each "lost N events" line says the new ones).
	echo "$h0 $h1 $seen $(sed -n 's/.*lost \([0-9]*\) events.*/\1/p' "$T/at.err" |
		awk '{ n += $1 } END { print n + 0 }')"
}
echo "== VmHWM (kB) of the tracer at ready and after $STORM alerts over lo (-i lo --no-lib; other"
echo "   traffic on lo counts too; the wire sees each record twice)"
printf '%-6s %-7s %12s %12s %10s %6s\n' round mode "at ready" "after storm" events lost
: >"$T/rss"
for r in $(seq 1 "$ROUNDS"); do
	order="stream hist"
	[ $((r % 2)) = 0 ] && order="hist stream"
	for m in $order; do
		read -r h0 h1 seen lost < <(rss "$m")
		printf '%-6s %-7s %12s %12s %10s %6s\n' "$r" "$m" "$h0" "$h1" "$seen" "$lost"
		echo "$m $h0 $h1" >>"$T/rss"
	done
done

head=$(python3 - "$T" <<'EOF'
import statistics, sys
t = sys.argv[1]
med = statistics.median
ready = [l.split() for l in open(t + "/ready")]
hook = [l.split() for l in open(t + "/hook")]
rss = [l.split() for l in open(t + "/rss")]
out = []
print("median (min-max) over rounds", file=sys.stderr)
for m in ("defaults", "warm", "no-lib", "no-wire"):
    v = [float(x[1]) for x in ready if x[0] == "new:" + m]
    o = [float(x[1]) for x in ready if x[0] == "old:" + m]
    old = ", old %6.0f ms (%.0f-%.0f), old/new %.2f" % (med(o), min(o), max(o), med(o) / med(v)) if o else ""
    print("ready %-9s %6.0f ms (%.0f-%.0f)%s" % (m, med(v), min(v), max(v), old), file=sys.stderr)
    out.append("%s %.0f%s" % (m, med(v), " (old %.0f)" % med(o) if o else ""))
hk = []
for n in ("1", "10", "50"):
    for kind in ("same", "distinct"):
        r = [x for x in hook if x[0] == n and x[1] == kind]
        ms = [float(x[2]) for x in r]
        us = [float(x[3]) for x in r]
        print("N=%-3s %-9s all hooked %6.0f ms (%.0f-%.0f), analysis_us median %.0f (cached %s of %s)" % (
            n, kind, med(ms), min(ms), max(ms), med(us), r[0][5], n), file=sys.stderr)
        hk.append("%s %s %.0f" % (n, kind, med(ms)))
for m in ("stream", "hist"):
    r = [x for x in rss if x[0] == m]
    print("VmHWM %-6s %6.0f kB at ready, %6.0f kB after the storm" % (
        m, med(float(x[1]) for x in r), med(float(x[2]) for x in r)), file=sys.stderr)
print("ready ms: %s; all N hooked ms (copies same/distinct build-id): %s; VmHWM after storm "
      "stream %.0f kB, -H %.0f kB" % (", ".join(out), ", ".join(hk),
      med(float(x[2]) for x in rss if x[0] == "stream"), med(float(x[2]) for x in rss if x[0] == "hist")))
EOF
)
bench_headline "$head"
