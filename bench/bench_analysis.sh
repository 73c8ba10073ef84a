#!/bin/bash
# Hook discovery cost per library: how long alerttrace's analyser takes on a libgnutls and a libssl
# file the first time, and for a second copy with the same build-id (another inode: a container's
# copy of the same package), which reuses the first analysis. The figures are the tracer's own:
# "analysis_us" and "cached" of each library's object in the coverage report (-j, on stderr).
# Libraries: this host's libgnutls.so.30 and libssl.so.3 (symlinks followed) and, if a Debian
# trixie root exists at $TRIXIE (default /var/tmp/alerttrace-trixie), its libgnutls.so.30* and
# libssl.so.3, and the two largest Go programs with crypto/tls found on the host. Each is copied into two directories of its own (libssl with its libcrypto.so.3
# beside it, as in its root: the OpenSSL version string lives in libcrypto) and all copies are given
# with --lib to one `alerttrace --no-wire -j`, which runs for about 2 s; RUNS times (default 5), the
# libraries in a rotating order (the first copy always before its twin). Medians (min-max) per
# library. Figures only, never PASS/FAIL.
# Usage: bench/bench_analysis.sh [RUNS]
set -u
. "$(dirname "$0")/../tests/lib/common.sh"
RUNS=${1:-5}
TRIXIE=${TRIXIE:-/var/tmp/alerttrace-trixie}
if [ "$(id -u)" != 0 ]; then
	echo "bench_analysis: needs root (uprobes): run as root" >&2
	exit 0
fi
command -v python3 >/dev/null || { echo "bench_analysis: python3 not found: run make deps" >&2; exit 1; }
[ -x "$AT" ] || { echo "bench_analysis: no $AT: run make" >&2; exit 1; }
HOSTLIB=/usr/lib/x86_64-linux-gnu

# lib TAG FILE [COMPANION]: copy FILE (and COMPANION beside it) into $T/TAG.1 and $T/TAG.2 under
# its own name; LIBS gets "TAG" once it is there.
LIBS=()
lib() {
	local tag=$1 f d
	f=$(readlink -f "$2")
	[ -f "$f" ] || { echo "bench_analysis: no $2: $tag left out"; return 0; }
	for d in "$T/$tag.1" "$T/$tag.2"; do
		mkdir -p "$d"
		cp "$f" "$d/$(basename "$2")" || return 1
		if [ -n "${3:-}" ]; then cp -L "$3" "$d/" || return 1; fi
	done
	echo "$tag $(basename "$2")" >>"$T/libs"
	LIBS+=("$tag")
}
: >"$T/libs"
lib gnutls-bookworm $HOSTLIB/libgnutls.so.30
lib openssl-bookworm $HOSTLIB/libssl.so.3 $HOSTLIB/libcrypto.so.3
if [ -d "$TRIXIE" ]; then
	tl=$(find "$TRIXIE" \( -type f -o -type l \) -name 'libgnutls.so.30*' 2>/dev/null | sort | head -1)
	if [ -n "$tl" ]; then
		lib gnutls-trixie "$tl"
	else
		echo "bench_analysis: no libgnutls.so.30* under $TRIXIE: GnuTLS 3.8 left out"
	fi
	tl=$(find "$TRIXIE" \( -type f -o -type l \) -name libssl.so.3 2>/dev/null | sort | head -1)
	if [ -n "$tl" ]; then
		lib openssl-trixie "$tl" "$(dirname "$tl")/libcrypto.so.3"
	else
		echo "bench_analysis: no libssl.so.3 under $TRIXIE: OpenSSL 3.5 left out"
	fi
else
	echo "bench_analysis: no trixie root at $TRIXIE: GnuTLS 3.8 and OpenSSL 3.5 left out"
fi
# Go programs: the two largest on this host that carry crypto/tls (their build info and
# sendAlertLocked's name in the pclntab), e.g. docker, kubectl.
gos=$(for f in /usr/local/bin/* /usr/bin/* /usr/lib/google-cloud-sdk/bin/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	LC_ALL=C grep -qaF 'crypto/tls.(*Conn).sendAlertLocked' "$f" 2>/dev/null &&
		LC_ALL=C grep -qaF $'\xff Go buildinf:' "$f" && echo "$(stat -c %s "$f") $f"
done | sort -rn | head -2 | awk '{ print $2 }')
i=0
for f in $gos; do
	i=$((i + 1))
	lib "go-$(basename "$f")-$(( $(stat -c %s "$f") >> 20 ))MB" "$f"
done
[ -n "$gos" ] || echo "bench_analysis: no Go program with crypto/tls on this host: Go left out"
[ ${#LIBS[@]} -gt 0 ] || { echo "bench_analysis: no library to analyse" >&2; exit 1; }

echo "bench_analysis: $RUNS runs of alerttrace --no-wire -j with ${#LIBS[@]} libraries x 2" \
	"copies; $(nproc) cores"
: >"$T/report"
n=${#LIBS[@]}
for r in $(seq 1 "$RUNS"); do
	args=()
	for i in $(seq 0 $((n - 1))); do
		tag=${LIBS[$(( (i + r - 1) % n ))]}
		name=$(awk -v t="$tag" '$1 == t { print $2 }' "$T/libs")
		args+=(--lib "$T/$tag.1/$name" --lib "$T/$tag.2/$name")
	done
	t0=$(date +%s%N)
	bg "$AT" --no-wire -j "${args[@]}" >/dev/null 2>"$T/run.err"
	pid=$!
	wait_for "$T/run.err" "Tracing TLS alerts" 20 ||
		{ echo "bench_analysis: alerttrace did not start: $(tail -3 "$T/run.err")" >&2; exit 1; }
	# About 2 s in all: the start-up scan plus a rescan or two.
	sleep "$(awk -v t0="$t0" -v t1="$(date +%s%N)" 'BEGIN { s = 2 - (t1 - t0) / 1e9;
		printf "%.2f", (s > 0 ? s : 0) }')"
	kill -INT "$pid"
	wait "$pid" || echo "bench_analysis: run $r: alerttrace exited with status $?" >&2
	sed "s/^/$r /" "$T/run.err" >>"$T/report"
done

python3 - "$T" "$T/libs" "$T/report" <<'EOF'
import json, os, statistics, sys
tdir, libs_file, report = sys.argv[1:4]
libs = [l.split() for l in open(libs_file) if l.strip()]
first, cached, odd, info = {}, {}, [], {}
for line in open(report):
    run, _, text = line.partition(" ")
    try:
        o = json.loads(text)
    except ValueError:
        continue
    if o.get("type") != "library" or not o.get("path", "").startswith(tdir + "/"):
        continue
    tag, copy = o["path"][len(tdir) + 1:].split("/")[0].rsplit(".", 1)
    info[tag] = (o.get("provider"), o.get("version") or "?", o.get("build_id", "?")[:12])
    if "analysis_us" not in o:
        odd.append("run %s %s: no analysis_us (%s)" % (run, o["path"], o.get("reasons")))
        continue
    us = float(o["analysis_us"])
    if o.get("cached"):
        cached.setdefault(tag, []).append(us)
        if copy == "1":
            odd.append("run %s %s: first copy reported cached" % (run, o["path"]))
    else:
        first.setdefault(tag, []).append(us)
        if copy == "2":
            odd.append("run %s %s: second copy analysed again (not cached)" % (run, o["path"]))

def fig(xs, scale, fmt):
    if not xs:
        return "-"
    xs = [x / scale for x in xs]
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(xs), min(xs), max(xs))

print("%-18s %-16s %-28s %-12s %20s %18s" % ("library", "file", "version", "build-id",
                                             "first ms", "cached us"))
for tag, name in libs:
    prov, ver, bid = info.get(tag, ("?", "?", "?"))
    print("%-18s %-16s %-28s %-12s %20s %18s" % (tag, name, ver[:28], bid,
                                                 fig(first.get(tag, []), 1000, "%.1f"),
                                                 fig(cached.get(tag, []), 1, "%.0f")))
print("first: analysis_us of the first copy of a build-id in a run (median (min-max) over the")
print("runs, in ms); cached: that of its twin, another inode with the same build-id (in us).")
for o in odd:
    print("odd: " + o)
summary = os.environ.get("BENCH_SUMMARY")
if summary:
    # One line of make bench's closing table (bench/lib.sh's bench_headline).
    with open(summary, "a") as f:
        f.write("%-16s analysis ms first (us cached): %s\n" % ("bench_analysis", ", ".join(
            "%s %s (%s)" % (tag, fig(first.get(tag, []), 1000, "%.1f").split()[0],
                            fig(cached.get(tag, []), 1, "%.0f").split()[0]) for tag, _ in libs)))
EOF
