#!/bin/bash
# The Prometheus alerting rules, dist/alerttrace-rules.yml:
#  - `promtool check rules` passes, and `promtool test rules` passes on
#    dist/alerttrace-rules.test.yml (series of our own metric names);
#  - the certificate alert's names are those the IANA registry gives the certificate codes
#    (41-46, 48: RFC 5246/8446; 111, 113, 114: RFC 6066; 116: RFC 8446), looked up by code in
#    `alerttrace --list-alerts`, no more, no fewer;
#  - against a real run (`alerttrace -H 1 --textfile`, in a network namespace, only processes
#    named atrules_ossl: an `openssl s_client -verify_return_error` that does not trust the
#    server sends unknown_ca, and the server's own "alert number 48" says it got it):
#    every alerttrace_* metric the rules and their tests use is one the exporter writes, the
#    test series carry exactly the labels the real ones do, and the rules run on the real
#    exposition (as input series of a generated promtool test) raise AlerttraceCertificateAlerts
#    for the client's sent and the server's received unknown_ca, counted once, not per source.
. "$(dirname "$0")/lib/common.sh"
need_root rules
test_prologue rules promtool openssl python3
R=$TOP/dist/alerttrace-rules.yml
RT=$TOP/dist/alerttrace-rules.test.yml

out=$(promtool check rules "$R" 2>&1) && pass "promtool_check_rules: $(echo "$out" | grep -o '[0-9]* rules found')" ||
	fail promtool_check_rules "$(echo "$out" | tail -3 | tr '\n' ' ')"
out=$(cd "$(dirname "$RT")" && promtool test rules "$(basename "$RT")" 2>&1) && pass promtool_test_rules ||
	fail promtool_test_rules "$(echo "$out" | head -20 | tr '\n' ' ')"

want=$(for code in 41 42 43 44 45 46 48 111 113 114 116; do
	"$AT" --list-alerts | awk -v c=$code '$1 == c {print $2}'; done | sort)
got=$(grep -o 'alert=~"[^"]*"' "$R" | head -1 | sed 's/alert=~"//; s/"$//' | tr '|' '\n' | sort)
check certificate_rule_names_the_certificate_codes "$(echo $want)" "$(echo $got)"

# A real run.
NS=at_rules_$$
ip netns add $NS && AT_NETNS+=($NS) && ip -n $NS link set lo up ||
	{ fail rules_netns "cannot create a network namespace"; exit 1; }
cp "$(command -v openssl)" "$T/atrules_ossl"
P=$(( 34000 + RANDOM % 2000 ))
bg ip netns exec $NS "$T/atrules_ossl" s_server -tls1_2 -accept 127.0.0.1:$P -cert "$C/server.pem" \
	-key "$C/server.key" -quiet </dev/null >"$T/srv.log" 2>&1
TF=$T/tf/alerttrace.prom
mkdir -p "$T/tf"
bg ip netns exec $NS "$AT" -H 1 --textfile "$TF" -c atrules_ossl -i lo >"$T/at.out" 2>"$T/at.err"
ATP=$!
wait_for "$T/at.err" 'Tracing TLS alerts' 30 ||
	{ fail rules_start "the tracer did not start: $(tail -3 "$T/at.err")"; exit 1; }
ip netns exec $NS "$T/atrules_ossl" s_client -tls1_2 -verify_return_error -CAfile "$C/other-ca.pem" \
	-connect 127.0.0.1:$P </dev/null >"$T/cli.log" 2>&1
wait_for "$T/srv.log" 'alert number 48' 5 ||
	{ fail rules_workload "the server got no unknown_ca: $(head -c 300 "$T/srv.log")"; exit 1; }
for i in $(seq 50); do	# both ends, once the second has gone by
	n=$(grep -c 'alert="unknown_ca"' "$TF" 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.1
done
sleep 1.2
cp "$TF" "$T/real.prom"
kill -INT $ATP
wait $ATP

python3 - "$T/real.prom" "$R" "$RT" "$T/gen" <<'EOF'
import os, re, sys
real, rules, tests, gen = sys.argv[1:5]
text = open(real).read()
types = set(re.findall(r"^# TYPE (alerttrace_[a-z_]+) ", text, re.M))
used = set(re.findall(r"\b(alerttrace_[a-z_]+)\b", open(rules).read() + open(tests).read()))
bad = used - types
print("PASS metrics_the_rules_use_are_real: %s" % " ".join(sorted(used)) if not bad else
      "FAIL metrics_the_rules_use_are_real: expected only names the exporter writes (%s), got %s" %
      (" ".join(sorted(types)), " ".join(sorted(bad))))
lab = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')
series = [(m.group(1), dict(lab.findall(m.group(2) or "")), float(m.group(3))) for m in
          re.finditer(r"^(alerttrace_[a-z_]+)(?:\{(.*)\})? (\S+)$", text, re.M)]
real_labels = {frozenset(l) for n, l, v in series if n == "alerttrace_alerts_total"}
test_labels = {frozenset(k for k in dict(lab.findall(m)) if k != "instance") for m in
               re.findall(r"series: 'alerttrace_alerts_total\{([^}]*)\}'", open(tests).read())}
print("PASS test_series_have_the_real_labels: %s" % sorted(next(iter(real_labels)))
      if len(real_labels) == 1 and test_labels == real_labels else
      "FAIL test_series_have_the_real_labels: expected %s, got %s" % (real_labels, test_labels))
# The rules on the real exposition: each series at 0 for 10 minutes, then at its real value.
certs = re.search(r'alert=~"([^"]*)"', open(rules).read()).group(1).split("|")
inp, best, srcs = [], {}, {}
for n, l, v in series:
    l = dict(l, instance="real")
    body = ",".join('%s="%s"' % kv for kv in sorted(l.items()))
    values = ("0x10 %dx20" % v) if n.endswith("_total") else ("%dx30" % v)
    inp.append("      - series: '%s{%s}'\n        values: '%s'" % (n, body, values))
    if n == "alerttrace_alerts_total" and l["alert"] in certs:
        k = (l["comm"], l["direction"], l["alert"])
        best[k] = max(best.get(k, 0), v)   # one alert, seen by two sources: counted once
        srcs.setdefault(k, set()).add(l["source"])
exp = []
for (comm, d, a), v in sorted(best.items()):
    exp.append('''          - exp_labels: {severity: warning, instance: real, comm: "%s", direction: %s, alert: %s}
            exp_annotations:
              summary: "%s %s %s on real"
              description: "%d %s alerts %s by %s in 10 minutes: a certificate was refused.\\n"'''
               % (comm, d, a, comm, d, a, v, a, d, comm))
want = {("atrules_ossl", "sent", "unknown_ca"), ("atrules_ossl", "received", "unknown_ca")}
print("PASS real_run_counted_both_ends: %s" % sorted((k, v, sorted(srcs[k])) for k, v in best.items())
      if set(best) == want else
      "FAIL real_run_counted_both_ends: expected %s, got %s" % (sorted(want), sorted(best)))
os.makedirs(gen, exist_ok=True)
open(os.path.join(gen, "alerttrace-rules.yml"), "w").write(open(rules).read())
open(os.path.join(gen, "real.test.yml"), "w").write("""rule_files: [alerttrace-rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s
    alert_rule_test:
      - eval_time: 15m
        alertname: AlerttraceCertificateAlerts
        exp_alerts:
%s
""" % ("\n".join(inp), "\n".join(exp)))
EOF
out=$(cd "$T/gen" && promtool test rules real.test.yml 2>&1) && pass rules_fire_on_the_real_exposition ||
	fail rules_fire_on_the_real_exposition "$(echo "$out" | head -20 | tr '\n' ' ')"
