#!/bin/bash
# Prometheus exporters end to end, with real alerts: `alerttrace -H --prometheus 127.0.0.1:PORT
# --no-wire` scraped with curl, and `alerttrace -H 1 --textfile FILE --no-wire`, in a network
# namespace of their own (so the port is ours). The workload (tests/fixtures/tls_workload.py,
# counting its own alerts with its library's message callback): a client named atm_client sends
# unknown_ca to a server named atm_server, 9 times, then 13 times while the exporters are read
# over and over. The loader publishes every second: after each batch the test waits past that.
#  - alerttrace_alerts_total{source="openssl",direction="sent",level="fatal",alert="unknown_ca",
#    comm="atm_client"} is 9 after the first batch and moves by exactly 13 with the second (the
#    server's "received" series the same), by the workload's own count;
#  - `promtool check metrics` passes on every scrape and on every version of the textfile;
#  - counters never go down between scrapes;
#  - the textfile is replaced atomically (every read is a whole exposition; its inode changes),
#    is mode 0644, and no temporary file is left behind.
. "$(dirname "$0")/lib/common.sh"
need_root metrics_e2e
workload_setup metrics_e2e curl promtool
nsx() { ip netns exec $NS "$@"; }
MPORT=$(( 29000 + RANDOM % 500 )) P=$(( 29600 + RANDOM % 300 ))
TF=$T/tf/alerttrace.prom
mkdir -p "$T/tf" "$T/scrapes" "$T/tfcopies"

# value FILE SOURCE DIRECTION ALERT COMM: the sample of alerttrace_alerts_total with exactly these
# labels (and level fatal), 0 when the series is absent. A small exposition parser of our own.
value() {
	$PY - "$@" <<'EOF'
import re, sys
path, src, d, alert, comm = sys.argv[1:6]
want = {"source": src, "direction": d, "level": "fatal", "alert": alert, "comm": comm}
lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
total = 0
for line in open(path, encoding="utf-8"):
    m = re.match(r'alerttrace_alerts_total\{(.*)\} (\S+)$', line.rstrip("\n"))
    if m and dict(lab.findall(m.group(1))) == want:
        total += int(float(m.group(2)))
print(total)
EOF
}
# count LOG DIR: the workload's own count of unknown_ca alerts in DIR.
count() { $PY "$TOP/tests/fixtures/alert_judge.py" count "$1" "$2" 48; }
# promcheck NAME FILE...: promtool on each file.
promcheck() {
	local name=$1 f bad=0 msg=
	shift
	for f in "$@"; do
		if ! msg=$(promtool check metrics <"$f" 2>&1); then
			bad=1
			fail "$name" "promtool check metrics failed on $(basename "$f"): $(echo "$msg" | head -3 | tr '\n' ' ')"
			break
		fi
	done
	[ $bad = 0 ] && pass "$name: $# expositions"
}
# monotonic NAME FILE...: no alerttrace_alerts_total series goes down from one file to the next.
monotonic() {
	$PY - "$@" <<'EOF'
import re, sys
name, files = sys.argv[1], sys.argv[2:]
prev, bad = {}, []
for f in files:
    cur = {}
    for line in open(f, encoding="utf-8"):
        m = re.match(r'(alerttrace_alerts_total\{.*\}) (\S+)$', line.rstrip("\n"))
        if m:
            cur[m.group(1)] = float(m.group(2))
    bad += ["%s %s -> %s" % (k, prev[k], cur.get(k)) for k in prev if cur.get(k, -1) < prev[k]]
    prev = cur
print("PASS %s: %d expositions" % (name, len(files)) if not bad else
      "FAIL %s: expected counters never to decrease, got %s" % (name, bad[0]))
EOF
}

bg ip netns exec $NS $PY "$W" server --port $P --cert $C/server.pem --key $C/server.key --max TLSv1_2 \
	--name atm_server --log "$T/srv.log"
wait_for "$T/srv.log" listening 10 || { fail metrics_workload "the server did not start"; exit 1; }

bg ip netns exec $NS "$AT" -H --prometheus 127.0.0.1:$MPORT --no-wire >"$T/prom.out" 2>"$T/prom.err"
APROM=$!
bg ip netns exec $NS "$AT" -H 1 --textfile "$TF" --no-wire >"$T/tf.out" 2>"$T/tf.err"
ATF=$!
for f in prom tf; do
	wait_for "$T/$f.err" "Tracing TLS alerts" 20 ||
		{ fail "metrics_${f}_start" "$(tail -3 "$T/$f.err")"; exit 1; }
done
# Ready when the first snapshot is published (until then: 503).
for _ in $(seq 1 40); do
	code=$(nsx curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")
	[ "$code" = 200 ] && break
	sleep 0.1
done
check metrics_http_serves_200 200 "$code"
check metrics_http_content_type "text/plain; version=0.0.4; charset=utf-8" \
	"$(nsx curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$MPORT/metrics")"
nsx curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/scrapes/0"

# Batch 1.
nsx $PY "$W" client --name atm_client --log "$T/b1.log" --do port=$P,ca=$C/other-ca.pem,n=9
sleep 2.2
nsx curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/scrape1"
cp "$TF" "$T/tf1"
sent1=$(count "$T/b1.log" sent) recv1=$(count "$T/srv.log" received)
check metrics_workload_batch1 "9 9" "$sent1 $recv1"
check metrics_http_counter_after_batch1 "$sent1" "$(value "$T/scrape1" openssl sent unknown_ca atm_client)"
check metrics_textfile_counter_after_batch1 "$sent1" "$(value "$T/tf1" openssl sent unknown_ca atm_client)"

# Batch 2, while both exporters are read continuously.
$PY - "$TF" "$T/tfcopies" "$T/tf_watch.done" <<'EOF' &
import os, sys, time
path, out, done = sys.argv[1:4]
seen, n, inodes = set(), 0, set()
while not os.path.exists(done):
    try:
        with open(path, "rb") as f:
            ino = os.fstat(f.fileno()).st_ino
            data = f.read()
    except FileNotFoundError:
        data, ino = b"<missing>", 0
    inodes.add(ino)
    if data not in seen:
        seen.add(data)
        with open(os.path.join(out, "%03d" % n), "wb") as g:
            g.write(data)
        n += 1
    time.sleep(0.003)
with open(os.path.join(out, "inodes"), "w") as g:
    g.write("%d\n" % len(inodes))
EOF
WATCH=$!
( i=1; while [ ! -e "$T/tf_watch.done" ]; do
	nsx curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/scrapes/$i"; i=$((i + 1)); sleep 0.25
done ) &
SCRAPER=$!
nsx $PY "$W" client --name atm_client --log "$T/b2.log" --do port=$P,ca=$C/other-ca.pem,n=13,pause=0.15
sleep 2.2
touch "$T/tf_watch.done"
wait $WATCH $SCRAPER
nsx curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/scrape2"
cp "$TF" "$T/tf2"
sent2=$(count "$T/b2.log" sent) recv2=$(count "$T/srv.log" received)
check metrics_workload_batch2 "13 22" "$sent2 $recv2"
d=$(( $(value "$T/scrape2" openssl sent unknown_ca atm_client) - $(value "$T/scrape1" openssl sent unknown_ca atm_client) ))
check metrics_http_sent_counter_moves_by_batch2 "$sent2" "$d"
d=$(( $(value "$T/scrape2" openssl received unknown_ca atm_server) - $(value "$T/scrape1" openssl received unknown_ca atm_server) ))
check metrics_http_received_counter_moves_by_batch2 "$((recv2 - recv1))" "$d"
d=$(( $(value "$T/tf2" openssl sent unknown_ca atm_client) - $(value "$T/tf1" openssl sent unknown_ca atm_client) ))
check metrics_textfile_sent_counter_moves_by_batch2 "$sent2" "$d"
d=$(( $(value "$T/tf2" openssl received unknown_ca atm_server) - $(value "$T/tf1" openssl received unknown_ca atm_server) ))
check metrics_textfile_received_counter_moves_by_batch2 "$((recv2 - recv1))" "$d"

mapfile -t scrapes < <(ls "$T"/scrapes/* | sort -t/ -k2 -V)
promcheck metrics_http_promtool_every_scrape "${scrapes[@]}" "$T/scrape1" "$T/scrape2"
monotonic metrics_http_counters_monotonic "${scrapes[@]}" "$T/scrape2"
mapfile -t copies < <(ls "$T"/tfcopies/[0-9]* | sort)
promcheck metrics_textfile_promtool_every_version "${copies[@]}" "$T/tf1" "$T/tf2"
# Every read of the textfile is a whole exposition: it ends with the last metric's line.
partial=0
for f in "${copies[@]}"; do
	tail -1 "$f" | grep -q '^alerttrace_build_info{version=".*"} 1$' || partial=$((partial + 1))
done
check metrics_textfile_never_read_partial "0 of ${#copies[@]}" "$partial of ${#copies[@]}"
n=$(cat "$T/tfcopies/inodes")
[ "$n" -ge 2 ] && pass "metrics_textfile_replaced_by_rename: $n inodes seen" ||
	fail metrics_textfile_replaced_by_rename "expected the file's inode to change between writes, saw $n"
check metrics_textfile_mode_0644 644 "$(stat -c %a "$TF")"

kill -INT $APROM $ATF
wait $APROM; rc1=$?
wait $ATF; rc2=$?
check metrics_tracers_exit_0 "0 0" "$rc1 $rc2"
check metrics_textfile_no_temporary_left "alerttrace.prom" "$(ls -A "$T/tf" | tr '\n' ' ' | sed 's/ $//')"
check metrics_no_errors_on_stderr "" "$(grep -hi 'lost\|not counted\|cannot\|error' "$T/prom.err" "$T/tf.err" | head -3)"
