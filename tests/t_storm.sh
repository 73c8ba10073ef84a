#!/bin/bash
# Alert storms in histogram mode: counts exact, nothing lost, and a full map never silent.
#  1. The TC classifier: .output/tests/test_storm (tests/test_storm.c) runs the real program with
#     bpf_prog_test_run_opts() 100000 times on one CPU and 100000 times per CPU at once, then
#     reads the `hist` map: exact counts, hist_lost and lost 0; then fills the map past its size.
#  2. The library path: tests/fixtures/storm_lib.c, linked with the system libssl, makes
#     handshakes over BIO pairs in one process as fast as it can, for a few seconds, while
#     `alerttrace -H -P -j --no-wire` runs: the client rejects the server's certificate
#     (unknown_ca, full TLS 1.3 handshakes), then a TLS 1.2-only client meets a TLS 1.3-only
#     server (protocol_version, cheap: the fastest alert storm libssl makes). The generator counts
#     its own alerts with SSL_CTX_set_info_callback (the independent count): the histogram of its
#     pid must equal that count exactly, and alerttrace must report no loss.
#     With -H nothing shows a reason, so the reasons' probes must not be attached: OpenSSL's
#     err_reason (libcrypto's ERR function) and GnuTLS's alert_appropriate
#     (gnutls_alert_send_appropriate); a stream (-j) attaches them. tests/fixtures/storm_gnutls.c
#     makes a GnuTLS protocol_version storm the same way, counted the same way. The witness is the
#     kernel's run count of each of the tracer's programs (tests/fixtures/bpf_stats.py: BPF
#     statistics on for the test, the sysctl left alone): under -H the alert programs ran at
#     least once per alert and the reasons' programs never, while the same storms made a -j
#     tracer's run at least once per alert sent (OpenSSL's server raises "unsupported protocol",
#     GnuTLS's hands its error to gnutls_alert_send_appropriate). Nor, under -H, OpenSSL's
#     uretprobe on the dispatch (dispatch_return: whether the alert was written, which a
#     histogram does not keep; the entry probe counts the alert), which a stream attaches.
#  3. Past the histogram's capacity (AT_HIST_MAX keys): 5300 short-lived processes with one
#     handshake each (2 keys per pid with -P, 10600 keys): every alert must be counted or
#     reported as not counted ("never drop events silently").
# The rates (alerts/s) are printed, with and without the tracer.
. "$(dirname "$0")/lib/common.sh"
need_root storm
[ -x "$AT" ] || { fail storm_build "no $AT: run make"; exit 1; }
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)

# 1. The classifier.
if [ -x "$TOP/.output/tests/test_storm" ]; then
	"$TOP/.output/tests/test_storm"
else
	fail tc_storm_build "no .output/tests/test_storm: run make tests"
fi

# 2. The library path.
${CC:-cc} -O2 -o "$T/storm_lib" "$TOP/tests/fixtures/storm_lib.c" -lssl -lcrypto 2>"$T/build.err" ||
	{ fail storm_lib_build "cannot build the generator (libssl-dev?): $(head -3 "$T/build.err")"; exit 1; }
make_certs "$T/c" || { fail certs "openssl could not make test certificates"; exit 1; }
# shellcheck disable=SC2046 # pkg-config's words
${CC:-cc} -O2 -o "$T/storm_gnutls" "$TOP/tests/fixtures/storm_gnutls.c" \
	$(pkg-config --cflags --libs gnutls) -lpthread 2>"$T/build.err" ||
	{ fail storm_gnutls_build "cannot build the generator (libgnutls28-dev?): $(head -3 "$T/build.err")"; exit 1; }
gen() { "$T/storm_lib" "$1" "$2" "$T/c/server.pem" "$T/c/server.key" "$T/c/other-ca.pem"; }
gen_gt() { "$T/storm_gnutls" "$1" "$2" "$T/c/server.pem" "$T/c/server.key" "$T/c/other-ca.pem"; }
rate() { $PY -c 'import json,sys; e=json.loads(sys.argv[1]); n=sum(e["sent"].values())+sum(e["received"].values()); print("%d alerts in %.2f s: %.0f alerts/s" % (n, e["seconds"], n/e["seconds"]))' "$1"; }

base_u=$(gen unknown_ca 1.5) && base_p=$(gen protocol_version 1.5) ||
	{ fail storm_lib_run "the generator failed without a tracer"; exit 1; }

STATS=$TOP/tests/fixtures/bpf_stats.py
bg "$PY" "$STATS" hold >"$T/stats.log" 2>&1
SPID=$!
wait_for "$T/stats.log" "stats on" 10 || { fail storm_bpf_stats "$(cat "$T/stats.log")"; exit 1; }
bg "$AT" -H -P -j --no-wire >"$T/hist.out" 2>"$T/hist.err"
ATPID=$!
wait_for "$T/hist.err" "Tracing TLS alerts" 20 ||
	{ fail storm_tracer_start "$(tail -3 "$T/hist.err")"; exit 1; }
run_u=$(gen unknown_ca 4) && run_p=$(gen protocol_version 3) && run_g=$(gen_gt protocol_version 1) ||
	{ fail storm_lib_run "the generator failed under the tracer"; exit 1; }
"$PY" "$STATS" progs $ATPID >"$T/hist.progs"
kill -INT $ATPID; wait $ATPID; rc=$?
check storm_tracer_exits_0 0 $rc
# The same storm under a stream (-j), whose events show reasons.
bg "$AT" -j --no-wire >"$T/stream.out" 2>"$T/stream.err"
ATPID=$!
wait_for "$T/stream.err" "Tracing TLS alerts" 20 ||
	{ fail storm_stream_tracer_start "$(tail -3 "$T/stream.err")"; exit 1; }
run_s=$(gen protocol_version 1) && run_sg=$(gen_gt protocol_version 1) ||
	{ fail storm_lib_run "the generator failed under -j"; exit 1; }
"$PY" "$STATS" progs $ATPID >"$T/stream.progs"
kill -INT $ATPID; wait $ATPID
kill $SPID # the statistics, off again

echo "   library storm, unknown_ca:       without tracer $(rate "$base_u")"
echo "                                    with tracer    $(rate "$run_u")"
echo "   library storm, protocol_version: without tracer $(rate "$base_p")"
echo "                                    with tracer    $(rate "$run_p")"

# judge GENERATOR_JSON NAME [SOURCE]: the rows of the generator's pid equal its own count.
judge() {
	$PY - "$T/hist.out" "$1" "$2" "${3:-openssl}" <<'EOF'
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
gen, name, src = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
exp = collections.Counter()
for d in ("sent", "received"):
    for code, n in gen[d].items():
        exp[(src, d, 2, int(code))] += n
got = collections.Counter()
for r in rows:
    if r.get("pid") == gen["pid"]:
        got[(r["source"], r["direction"], r["level"], r["code"])] += r["count"]
fmt = lambda c: ", ".join("%s %s %s/%s x%d" % (k + (n,)) for k, n in sorted(c.items()))
if gen["other"] == 0 and exp == got and sum(exp.values()) > 0:
    print("PASS %s: pid %d %s" % (name, gen["pid"], fmt(exp)))
else:
    print("FAIL %s: expected {%s}, got {%s}" % (name, fmt(exp), fmt(got)))
EOF
}
judge "$run_u" storm_lib_unknown_ca_exact
judge "$run_p" storm_lib_protocol_version_exact
judge "$run_g" storm_gnutls_protocol_version_exact gnutls
check storm_lib_no_loss_reported "" "$(grep -i 'lost\|not counted' "$T/hist.err")"

# runs PROGS NAME...: the run count of the programs called NAME in a bpf_stats.py progs listing.
runs() {
	local f=$1
	shift
	awk -v names=" $* " 'index(names, " " $1 " ") { n += $2 } END { print n + 0 }' "$f"
}
# alerts GEN_JSON... DIRECTION: the alerts the generators counted in DIRECTION.
alerts() {
	$PY -c 'import json, sys
print(sum(sum(json.loads(g)[sys.argv[-1]].values()) for g in sys.argv[1:-1]))' "$@"
}
sent=$(alerts "$run_u" "$run_p" sent) recv=$(alerts "$run_u" "$run_p" received)
d=$(runs "$T/hist.progs" dispatch_entry dispatch_done) r=$(runs "$T/hist.progs" read_alert)
e=$(runs "$T/hist.progs" err_reason err_raise) w=$(runs "$T/hist.progs" dispatch_return)
if [ "$d" -ge "$sent" ] && [ "$r" -ge "$recv" ] && [ "$e" = 0 ]; then
	pass "storm_hist_reason_probe_never_runs: $d dispatch runs for $sent alerts sent, $r read runs for $recv received, 0 err runs"
else
	fail storm_hist_reason_probe_never_runs "expected >= $sent dispatch runs, >= $recv read runs and 0 err_reason/err_raise runs under -H, got $d, $r and $e: $(tr '\n' ' ' <"$T/hist.progs")"
fi
# Nor the dispatch's uretprobe: whether an alert was written is not counted; its entry counts it.
check storm_hist_dispatch_uretprobe_never_runs 0 "$w"
sent=$(alerts "$run_g" sent) recv=$(alerts "$run_g" received)
d=$(runs "$T/hist.progs" alert_send_entry) r=$(runs "$T/hist.progs" record_alert)
e=$(runs "$T/hist.progs" alert_appropriate)
if [ "$d" -ge "$sent" ] && [ "$r" -ge "$recv" ] && [ "$e" = 0 ]; then
	pass "storm_hist_gnutls_reason_probe_never_runs: $d send runs for $sent alerts sent, $r record runs for $recv received, 0 reason runs"
else
	fail storm_hist_gnutls_reason_probe_never_runs "expected >= $sent alert_send_entry runs, >= $recv record_alert runs and 0 alert_appropriate runs under -H, got $d, $r and $e: $(tr '\n' ' ' <"$T/hist.progs")"
fi
# stream_runs NAME GEN_JSON PROGRAM...: under -j the PROGRAMs ran at least once per alert sent.
stream_runs() {
	local name=$1 sent e
	sent=$(alerts "$2" sent) e=$(runs "$T/stream.progs" "${@:3}")
	if [ "$sent" -gt 0 ] && [ "$e" -ge "$sent" ]; then
		pass "$name: $e runs of ${*:3} for $sent alerts sent"
	else
		fail "$name" "expected >= $sent runs of ${*:3} under -j (one per alert sent), got $e: $(tr '\n' ' ' <"$T/stream.progs")"
	fi
}
stream_runs storm_stream_reason_probe_runs "$run_s" err_reason err_raise
stream_runs storm_stream_dispatch_uretprobe_runs "$run_s" dispatch_return
stream_runs storm_stream_gnutls_reason_probe_runs "$run_sg" alert_appropriate

# 3. More keys than the histogram holds.
bg "$AT" -H -P -j --no-wire >"$T/full.out" 2>"$T/full.err"
ATPID=$!
wait_for "$T/full.err" "Tracing TLS alerts" 20 ||
	{ fail storm_full_tracer_start "$(tail -3 "$T/full.err")"; exit 1; }
run_f=$(gen fork 5300) || fail storm_full_run "the forking generator failed"
sleep 1.5
kill -INT $ATPID; wait $ATPID
$PY - "$T/full.out" "$T/full.err" "$run_f" <<'EOF'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
gen = json.loads(sys.argv[3])
total = sum(gen["sent"].values()) + sum(gen["received"].values())
counted = sum(r["count"] for r in rows if r.get("comm") == "atst_fork")
keys = len(rows)
reported = sum(int(m) for m in re.findall(r"(\d+) alerts not counted", open(sys.argv[2]).read()))
name = "storm_full_map_every_alert_counted_or_reported"
print("   %d processes made %d alerts; the histogram counted %d of them in %d rows; "
      "alerttrace reported %d not counted" % (gen["handshakes"], total, counted, keys, reported))
if counted + reported >= total:
    print("PASS %s" % name)
else:
    print("FAIL %s: expected the %d alerts the histogram did not count (%d made, %d counted) "
          "to be reported on stderr ('N alerts not counted'), got %d reported"
          % (name, total - counted, total, counted, reported))
EOF
