#!/bin/bash
# Overhead of alerttrace on real OpenSSL traffic over loopback, library path alone (--no-wire) and
# library path with the wire on lo (-i lo), against no tracer at all:
#   handshakes/s  `openssl s_time -new` against `openssl s_server -WWW` for SECONDS of wall time;
#                 every connection ends with an alert from the server (s_time closes without a
#                 close_notify: the server answers the early EOF with decode_error), so the uprobes
#                 fire on each one. Wall-clock rate, measured here (s_time's own is whole seconds).
#   bulk MB/s     curl fetching a 256 MiB file from the same s_server -WWW, 3 times per run.
# The three set-ups are interleaved, ROUNDS times, in a rotating order (off lib all, lib all off,
# ...), a tracer started afresh for each run; medians per set-up and their ratios to "off" (the
# goal: >= 0.99). Figures only, never PASS/FAIL: on a shared 2-core machine a threshold on them
# would be flaky.
# Usage: bench/bench_lib.sh [ROUNDS [SECONDS]]   (default 5 rounds, 5 s of handshakes per run)
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
ROUNDS=${1:-5}
SECS=${2:-5}
if [ "$(id -u)" != 0 ]; then
	echo "bench_lib: needs root (uprobes, TC on lo): run as root" >&2
	exit 0
fi
for c in openssl curl python3; do
	command -v $c >/dev/null || { echo "bench_lib: $c not found: run make deps" >&2; exit 1; }
done
[ -x "$AT" ] || { echo "bench_lib: no $AT: run make" >&2; exit 1; }
make_certs "$T/c" >/dev/null || { echo "bench_lib: cannot make certificates" >&2; exit 1; }
C=$T/c
mkdir -p "$T/www"
head -c $((256 << 20)) /dev/urandom >"$T/www/big.bin"
. "$TOP/tests/fixtures/lib_path.sh"
PORT=$(port_block 1)

# One s_server -WWW for the whole bench (it serves files from its working directory).
sleep 100000 | (cd "$T/www" && exec openssl s_server -WWW -accept "127.0.0.1:$PORT" \
	-cert "$C/server.pem" -key "$C/server.key") >"$T/srv.log" 2>&1 &
AT_PIDS+=("$!" "$(jobs -p %%)")
wait_for "$T/srv.log" ACCEPT 10 || { echo "bench_lib: s_server: $(tail -3 "$T/srv.log")" >&2; exit 1; }

# tracer MODE: start the tracer of a set-up (none for off); TPID its pid, or empty.
tracer() {
	TPID=
	case $1 in
	off) return 0 ;;
	lib) bg "$AT" --no-wire -j >"$T/at.out" 2>"$T/at.err" ;;
	all) bg "$AT" -i lo -j >"$T/at.out" 2>"$T/at.err" ;;
	esac
	TPID=$!
	wait_for "$T/at.err" "Tracing TLS alerts" 20 ||
		{ echo "bench_lib: alerttrace did not start: $(tail -3 "$T/at.err")" >&2; exit 1; }
}

# handshakes: connections per wall-clock second of one s_time -new run.
handshakes() {
	local t0 t1 n
	t0=$(date +%s%N)
	openssl s_time -connect "127.0.0.1:$PORT" -new -time "$SECS" >"$T/stime.out" 2>&1
	t1=$(date +%s%N)
	n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' "$T/stime.out")
	[ -n "$n" ] || { echo "bench_lib: s_time: $(tail -2 "$T/stime.out")" >&2; echo "0 0"; return; }
	awk -v n="$n" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f %d\n", n / ((t1 - t0) / 1e9), n }'
}

# bulk: MB/s (10^6 bytes) over 3 fetches of the file.
bulk() {
	local i
	for i in 1 2 3; do
		curl -sk -o /dev/null -w '%{size_download} %{time_total}\n' \
			"https://127.0.0.1:$PORT/big.bin"
	done | awk '{ b += $1; t += $2 } END { printf "%.1f\n", (t > 0 ? b / t / 1e6 : 0) }'
}

# kinds FILE: the most common library events of a run, to show what the uprobes had to do.
kinds() {
	python3 - "$1" <<-'EOF'
	import collections, json, sys
	c = collections.Counter()
	for line in open(sys.argv[1]):
	    try:
	        e = json.loads(line)
	    except ValueError:
	        continue
	    if e.get("source") == "openssl":
	        c["%s %s %s %s%s" % (e.get("comm"), e.get("direction"), e.get("alert"), e.get("hook"),
	                             "" if e.get("direction") != "sent" else
	                             " written" if e.get("written") else " not-written")] += 1
	for k, n in c.most_common(4):
	    print("    %6d  %s" % (n, k))
	EOF
}

echo "bench_lib: $ROUNDS rounds, ${SECS} s of handshakes and 3 x 256 MiB per run; s_server on" \
	"127.0.0.1:$PORT; $(openssl version)"
printf '%-6s %-4s %14s %12s %12s %10s\n' round mode "handshakes/s" connections "bulk MB/s" \
	"events"
modes=(off lib all)
: >"$T/results"
for r in $(seq 1 "$ROUNDS"); do
	for i in 0 1 2; do
		m=${modes[$(( (i + r - 1) % 3 ))]}
		tracer "$m"
		read -r hs n < <(handshakes)
		mb=$(bulk)
		ev=-
		if [ -n "$TPID" ]; then
			kill -INT "$TPID"; wait "$TPID"
			# What it saw: library events (and wire events with -i lo).
			ev=$(grep -c '"source":"openssl"' "$T/at.out")/$(grep -c '"source":"wire"' "$T/at.out")
			[ "$m" = lib ] && [ ! -e "$T/kinds" ] && kinds "$T/at.out" >"$T/kinds"
		fi
		printf '%-6s %-4s %14s %12s %12s %10s\n' "$r" "$m" "$hs" "$n" "$mb" "$ev"
		echo "$m $hs $mb" >>"$T/results"
	done
done
echo "events: library/wire events the tracer printed during the run (off: no tracer)"
echo "the most common library events of the first lib run:"
cat "$T/kinds" 2>/dev/null
python3 - "$T/results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
# Rows come in rounds of three (one per set-up): per-round ratios pair each run with the "off" run
# of its own round, which cancels the slow drifts of a shared machine.
rounds = [rows[i:i + 3] for i in range(0, len(rows) - 2, 3)]
def per_round(m, col):
    out = []
    for r in rounds:
        d = {x[0]: float(x[col]) for x in r}
        if d.get("off"):
            out.append(d[m] / d["off"])
    return out
print("%-26s %18s %18s %10s %10s %10s %10s" % ("median (min-max)", "handshakes/s", "bulk MB/s",
                                               "hs ratio", "(paired)", "bulk ratio", "(paired)"))
names = {"off": "off (no tracer)", "lib": "lib (--no-wire)", "all": "lib + wire on lo (-i lo)"}
base = {}
for m in ("off", "lib", "all"):
    hs = [float(r[1]) for r in rows if r[0] == m]
    mb = [float(r[2]) for r in rows if r[0] == m]
    h, b = statistics.median(hs), statistics.median(mb)
    base.setdefault("h", h)
    base.setdefault("b", b)
    print("%-26s %18s %18s %10.3f %10.3f %10.3f %10.3f" % (
        names[m], "%.0f (%.0f-%.0f)" % (h, min(hs), max(hs)),
        "%.0f (%.0f-%.0f)" % (b, min(mb), max(mb)),
        h / base["h"] if base["h"] else 0, statistics.median(per_round(m, 1)),
        b / base["b"] if base["b"] else 0, statistics.median(per_round(m, 2))))
print("ratio: median with the tracer / median without; (paired): median over rounds of the run's")
print("figure / the same round's off figure. Goal >= 0.99; the spread of the off runs is the noise.")
EOF
