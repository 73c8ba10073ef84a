#!/bin/bash
# Hostile process names: two processes name themselves (prctl PR_SET_NAME) with terminal escapes
# and control characters, then make real alerts (unknown_ca, twice each, TLS 1.2 on lo in a
# network namespace of their own, so wire events carry the name too):
#   E1 = "\x1b[31mevil\n"                        (10 bytes)
#   E2 = "\x1b]0;x\x07\"\\\r\t\x7f\xc2\x9bAAAAAA"  (19 bytes: the kernel keeps 15; a UTF-8 C1
#                                                 control, a quote and a backslash among them)
# Every output must keep them harmless, by the rules of user/out/strutil.h and histprint.h:
#  - text stream: no raw control byte anywhere, every line a well-formed row, the name shown
#    escaped (\xHH per control byte, \\ for a backslash);
#  - JSON stream and -H -j: every line parses, and comm decodes to exactly the name the kernel
#    kept (the first 15 bytes);
#  - Prometheus (/metrics): promtool accepts it, no raw control byte, and the comm label reads
#    (after the exposition format's own unescaping) as the documented \xHH form;
#  - -H and -H -P text: no raw control byte; the process header shows the escaped name, cut with
#    "..." when longer than HP_COMM_MAX (30) bytes.
# The expected renderings are computed here from the documented rules, never from alerttrace.
. "$(dirname "$0")/lib/common.sh"
need_root escape
workload_setup escape curl promtool
P=$(( 30000 + RANDOM % 500 )) MPORT=$(( 30600 + RANDOM % 300 ))
E1=1b5b33316d6576696c0a
E2=1b5d303b7807225c0d097fc29b414141414141

declare -A ATP
start() { # NAME FLAGS...
	local name=$1
	shift
	bg ip netns exec $NS "$AT" -i lo "$@" >"$T/$name.out" 2>"$T/$name.err"
	ATP[$name]=$!
}
start text
start json -j
start hist -H
start hist_pid -H -P
start hist_json -H -j
start prom -H --prometheus 127.0.0.1:$MPORT
for n in "${!ATP[@]}"; do
	wait_for "$T/$n.err" "Tracing TLS alerts" 20 ||
		{ fail "escape_${n}_start" "$(tail -3 "$T/$n.err")"; exit 1; }
done

bg ip netns exec $NS $PY "$W" server --port $P --cert $C/server.pem --key $C/server.key \
	--max TLSv1_2 --name ate_server --log "$T/srv.log"
wait_for "$T/srv.log" listening 10 || { fail escape_workload "the server did not start"; exit 1; }
for h in $E1 $E2; do
	ip netns exec $NS $PY "$W" client --name-hex $h --log "$T/cli_$h.log" \
		--do port=$P,ca=$C/other-ca.pem,n=2
done
sleep 2.2
ip netns exec $NS curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.out"
for n in "${!ATP[@]}"; do kill -INT "${ATP[$n]}"; done
for n in "${!ATP[@]}"; do
	wait "${ATP[$n]}"; rc=$?
	[ $rc = 0 ] || fail "escape_${n}_exit" "expected status 0 after SIGINT, got $rc"
done

# What the kernel kept of each name, by the workload's own account (/proc/self/comm).
for h in $E1 $E2; do
	got=$(grep '"start"' "$T/cli_$h.log" | $PY -c 'import json,sys; print(json.load(sys.stdin)["comm_hex"])')
	check "escape_workload_comm_${h:0:8}" "${h:0:30}" "$got"
	check "escape_workload_alerts_${h:0:8}" 2 "$($PY "$TOP/tests/fixtures/alert_judge.py" count "$T/cli_$h.log" sent 48)"
done
promtool check metrics <"$T/metrics.out" >"$T/promtool.out" 2>&1 && pass escape_prometheus_promtool_accepts ||
	fail escape_prometheus_promtool_accepts "$(head -3 "$T/promtool.out" | tr '\n' ' ')"

$PY - "$T" "${E1:0:30}" "${E2:0:30}" <<'EOF'
import json, re, sys
T, names = sys.argv[1], [bytes.fromhex(h) for h in sys.argv[2:]]

def is_ctrl(cp):
    return cp < 0x20 or 0x7f <= cp <= 0x9f

def units(b):
    """(bytes, text_safe rendering) per character: the table of user/out/strutil.h."""
    s, out = b.decode("utf-8"), []
    for ch in s:
        raw = ch.encode()
        if is_ctrl(ord(ch)):
            out.append((raw, "".join("\\x%02x" % c for c in raw)))
        elif ch == "\\":
            out.append((raw, "\\\\"))
        else:
            out.append((raw, ch))
    return out

def text_safe(b):
    return "".join(u for _, u in units(b))

def header_comm(b, cap=30):
    """histprint.h: escaped, cut on a unit boundary with "..." to at most cap bytes."""
    full = text_safe(b)
    if len(full) <= cap:
        return full
    cut = ""
    for _, u in units(b):
        if len(cut) + len(u) > cap - 3:
            break
        cut += u
    return cut + "..."

def prom_decoded(b):
    """What the comm label reads after the exposition format's unescaping (strutil.h (*))."""
    out = ""
    for raw, _ in units(b):
        ch = raw.decode()
        out += ch if ch == "\n" or not is_ctrl(ord(ch)) else "".join("\\x%02x" % c for c in raw)
    return out

def res(name, ok, why):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))

BAD = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")

def raw_controls(data):
    return [m.group(0) for m in BAD.finditer(data)]

for f in ("text", "hist", "hist_pid", "hist_json", "json"):
    data = open("%s/%s.out" % (T, f), "rb").read()
    bad = raw_controls(data)
    res("escape_%s_no_raw_control_bytes" % f, not bad,
        "expected none, got %d, e.g. %r" % (len(bad), bad[:3]))
data = open("%s/metrics.out" % T, "rb").read()
bad = raw_controls(data)
res("escape_prometheus_no_raw_control_bytes", not bad, "expected none, got %r" % bad[:3])

# Text stream: every line after the header is one row; each name escaped, on its 4 rows
# (2 library events, 2 wire events).
lines = open("%s/text.out" % T, "rb").read().decode("utf-8").split("\n")
row = re.compile(r"^\d+ +(wire|openssl|gnutls) +(sent|recv) ")
broken = [l for l in lines[1:] if l and not row.match(l)]
res("escape_text_every_line_a_row", not broken, "expected none, got %r" % broken[:2])
for b in names:
    want = text_safe(b)
    n = sum(1 for l in lines if (" %s " % want) in l)
    res("escape_text_shows_%s" % b[:4].hex(), n == 4,
        "expected 4 rows with %r, got %d" % (want, n))

# JSON stream: every line parses; comm decodes to the kernel's bytes.
evs, errs = [], 0
for l in open("%s/json.out" % T, "rb"):
    try:
        evs.append(json.loads(l))
    except ValueError:
        errs += 1
res("escape_json_every_line_parses", errs == 0, "expected 0 unparsable lines, got %d" % errs)
for b in names:
    n = sum(1 for e in evs if e.get("comm") == b.decode("utf-8"))
    res("escape_json_comm_exact_%s" % b[:4].hex(), n == 4,
        "expected 4 events with comm %r, got %d (comms: %r)" % (
            b.decode(), n, sorted({e.get("comm") for e in evs if e.get("comm")})[:6]))

# -H -j
rows, errs = [], 0
for l in open("%s/hist_json.out" % T, "rb"):
    try:
        rows.append(json.loads(l))
    except ValueError:
        errs += 1
res("escape_hist_json_every_line_parses", errs == 0, "expected 0 unparsable lines, got %d" % errs)
for b in names:
    n = sum(r["count"] for r in rows if r.get("comm") == b.decode("utf-8"))
    res("escape_hist_json_comm_exact_%s" % b[:4].hex(), n == 4,
        "expected a count of 4 for comm %r, got %d" % (b.decode(), n))

# -H and -H -P text: the process headers.
for f, pre in (("hist", "comm "), ("hist_pid", "pid ")):
    text = open("%s/%s.out" % (T, f), "rb").read().decode("utf-8")
    for b in names:
        want = header_comm(b) + ": sent 4, received 0"
        if pre == "comm ":
            ok = ("\ncomm %s\n" % want) in text
        else:
            ok = re.search(r"\npid \d+ %s\n" % re.escape(want), text) is not None
        res("escape_%s_header_%s" % (f, b[:4].hex()), ok,
            "expected a header '%s...%s', got %r" % (pre, want, [l for l in text.split("\n")
                                                               if l.startswith(pre)][:4]))

# Prometheus: the comm label, unescaped the exposition format's way.
def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1), m.group(0)),
                  v)
lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
comms = {}
for l in data.decode("utf-8").split("\n"):
    m = re.match(r"alerttrace_alerts_total\{(.*)\} (\S+)$", l)
    if m:
        d = {k: unescape(v) for k, v in lab.findall(m.group(1))}
        comms[d.get("comm")] = comms.get(d.get("comm"), 0) + int(float(m.group(2)))
for b in names:
    want = prom_decoded(b)
    res("escape_prometheus_label_%s" % b[:4].hex(), comms.get(want) == 4,
        "expected the comm label to read %r with 4 alerts, got %r" % (want, {k: v for k, v in comms.items() if k and k.startswith("\\x1b")}))
EOF
if [ -n "${VERBOSE:-}" ]; then cat "$T/text.out" "$T/hist.out"; grep comm= "$T/metrics.out"; fi
