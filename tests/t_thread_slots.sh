#!/bin/bash
# The library probes' per-thread state under threads that share slots. The OpenSSL and GnuTLS
# probes keep what the entry probe saw until its uretprobe (bpf/libprobe.bpf.h at_pending_put/take:
# OpenSSL's dispatch, GnuTLS's gnutls_alert_send) and OpenSSL each thread's last error until the
# next sent fatal alert (bpf/ossl.bpf.c note_err/take_err) in array slots indexed by tid & mask,
# with an LRU hash for a slot another live thread holds. With ALERTTRACE_THREAD_SLOTS=1 every
# thread shares the one slot, so all but one of the concurrent threads go through the fallback;
# the default (4096 slots) is run too.
# The workloads, each with STORM_THREADS=4 (4 threads, each making handshakes in one process) and
# STORM_LOG (one line per handshake: its thread's gettid() and its client and server sessions):
#   tests/fixtures/storm_lib.c (OpenSSL, over BIO pairs): protocol_version (the server refuses a
#       TLS 1.2 client) and unknown_ca (the client rejects the server's certificate);
#   tests/fixtures/storm_gnutls.c (GnuTLS, over in-memory push/pull functions; the failing side
#       sends through gnutls_alert_send_appropriate): protocol_version (the server refuses a
#       TLS 1.0 client) and bad_certificate (the client rejects the server's certificate).
# Judged by the storm's own witnesses, for each tracer (`alerttrace --no-wire -j -c COMM`, one
# per library) and storm:
#   counts       sent and received events per alert code equal the storm's own counts (OpenSSL:
#                its info callback; GnuTLS: the alert of each gnutls_alert_send_appropriate that
#                returned 0, and gnutls_alert_get after GNUTLS_E_FATAL_ALERT_RECEIVED), and the
#                tracer reports no loss;
#   pairing      every sent event's session is the SSL or gnutls_session_t of the sending side
#                (protocol_version: the server; unknown_ca, bad_certificate: the client) of a
#                handshake its own tid logged, every received event's the other side's: an
#                event carrying another thread's entry fails;
#   reason       every sent fatal alert carries the error raised in that thread (OpenSSL:
#                protocol_version "unsupported protocol", unknown_ca "certificate verify
#                failed", ssl/statem/statem_clnt.c; GnuTLS: gnutls_strerror of the error handed
#                to gnutls_alert_send_appropriate, which the storm prints).
# The judge is first run, for each storm, on a log with two threads' ids swapped: it must find
# the wrong pairing.
. "$(dirname "$0")/lib/common.sh"
need_root thread_slots
test_prologue thread_slots python3 cc pkg-config
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)
${CC:-cc} -O2 -o "$T/storm_lib" "$TOP/tests/fixtures/storm_lib.c" -lssl -lcrypto 2>"$T/build.err" ||
	{ fail thread_slots_build "cannot build the generator (libssl-dev?): $(head -3 "$T/build.err")"; exit 1; }
# shellcheck disable=SC2046 # pkg-config's words
${CC:-cc} -O2 -o "$T/storm_gnutls" "$TOP/tests/fixtures/storm_gnutls.c" \
	$(pkg-config --cflags --libs gnutls) -lpthread 2>"$T/build.err" || {
	fail thread_slots_build_gnutls \
		"cannot build the generator (libgnutls28-dev?): $(head -3 "$T/build.err")"
	exit 1
}

# judge NAME EVENTS STORM_JSON STORM_LOG SENDER SOURCE [REASON]: the checks above on the tracer's
# EVENTS of the storm's pid and SOURCE (openssl, gnutls); SENDER client or server (the side whose
# session a sent event must carry), REASON what every sent fatal alert's reason must be (default:
# the storm's "reason").
judge() {
	$PY - "$@" <<'EOF'
import collections, json, sys
name, events, storm, log, sender, source = sys.argv[1:7]
gen = json.loads(storm)
want_reason = sys.argv[7] if len(sys.argv) > 7 else gen.get("reason")
other = {"client": "server", "server": "client"}
sides = {"sent": sender, "received": other[sender]}
col = {"client": 1, "server": 2}  # the log's columns: tid client server
ssl = {d: col[sides[d]] for d in sides}
owner = {"sent": set(), "received": set()}  # (tid, session pointer) of each handshake's sides
for line in open(log):
    f = line.split()
    for d in ssl:
        owner[d].add((int(f[0]), int(f[ssl[d]], 16)))
evs = [json.loads(l) for l in open(events) if l.startswith("{")]
evs = [e for e in evs if e.get("pid") == gen["pid"] and e.get("source") == source]
tids = {int(l.split()[0]) for l in open(log)}
print("   %s: %d handshakes in %d threads, %d events" % (name, gen["handshakes"], len(tids), len(evs)))
if len(tids) != 4:
    print("FAIL %s_four_threads: expected 4 threads in the storm's log, got %d" % (name, len(tids)))
exp = collections.Counter()
got = collections.Counter()
for d in ssl:
    for code, n in gen[d].items():
        exp[(d, int(code))] += n
for e in evs:
    got[(e["direction"], e["code"])] += 1
fmt = lambda c: ", ".join("%s %d x%d" % (k + (n,)) for k, n in sorted(c.items()))
if not want_reason:
    print("FAIL %s_storm_reason: the storm printed no reason" % name)
if gen["other"] or exp != got or not exp:
    print("FAIL %s_counts: expected {%s}, got {%s}" % (name, fmt(exp), fmt(got)))
else:
    print("PASS %s_counts: %s" % (name, fmt(exp)))
for d in ssl:
    wrong = [e for e in evs
             if e["direction"] == d and (e["tid"], int(e["session"], 16)) not in owner[d]]
    if wrong or not any(e["direction"] == d for e in evs):
        w = wrong[0] if wrong else {}
        print("FAIL %s_%s_session_of_own_thread: expected each %s event's session to be a %s "
              "session its tid logged, got %d of %d wrong (first: tid %s session %s)"
              % (name, d, d, sides[d], len(wrong), sum(e["direction"] == d for e in evs),
                 w.get("tid"), w.get("session")))
    else:
        print("PASS %s_%s_session_of_own_thread" % (name, d))
fatal = [e for e in evs if e["direction"] == "sent" and e["level"] == 2]
reasons = collections.Counter(e["reason"] for e in fatal)
if not fatal or set(reasons) != {want_reason}:
    print("FAIL %s_sent_reason: expected every sent fatal alert's reason '%s', got %s"
          % (name, want_reason, dict(reasons)))
else:
    print("PASS %s_sent_reason: %d x '%s'" % (name, len(fatal), want_reason))
EOF
}

# storm GEN NAME MODE SECONDS: GEN's 4-thread storm; its JSON in $T/NAME.json, its log in
# $T/NAME.log.
storm() {
	STORM_THREADS=4 STORM_LOG="$T/$2.log" "$T/$1" "$3" "$4" "$C/server.pem" "$C/server.key" \
		"$C/other-ca.pem" >"$T/$2.json" ||
		fail "${2}_storm_runs" "expected the storm to exit 0, got: $(tail -2 "$T/$2.json")"
}

# The judge can fail: a log whose first two threads swapped ids pairs every event of theirs
# with the other thread's session (each thread's sessions come from its own malloc arena).
for gen in storm_lib storm_gnutls; do
	src=openssl why="unsupported protocol" p=""
	[ $gen = storm_lib ] || src=gnutls why="" p=gnutls_
	storm $gen selfcheck protocol_version 0.2
	awk 'NR == FNR { if (!($1 in s)) { s[$1]; o[++n] = $1 } next }
		{ if ($1 == o[1]) $1 = o[2]; else if ($1 == o[2]) $1 = o[1]; print }' \
		"$T/selfcheck.log" "$T/selfcheck.log" >"$T/swapped.log"
	# Events as a tracer would print them, made from the true log (the storm's own pairing).
	$PY - "$T/selfcheck.log" "$(cat "$T/selfcheck.json")" $src "$why" \
		>"$T/selfcheck.events" <<'EOF'
import json, sys
gen, source = json.loads(sys.argv[2]), sys.argv[3]
why = sys.argv[4] or gen["reason"]
for line in open(sys.argv[1]):
    tid, c, s = line.split()
    for d, p, r in (("sent", s, why), ("received", c, None)):
        print(json.dumps({"pid": gen["pid"], "tid": int(tid), "source": source, "direction": d,
                          "level": 2, "code": 70, "session": p, "reason": r}))
EOF
	self=$(judge selfcheck "$T/selfcheck.events" "$(cat "$T/selfcheck.json")" "$T/swapped.log" \
		server $src ${why:+"$why"})
	n=$(grep -c '^FAIL selfcheck_.*_session_of_own_thread' <<<"$self")
	check thread_slots_${p}judge_finds_swapped_threads 2 "$n"
	n=$(judge selfcheck "$T/selfcheck.events" "$(cat "$T/selfcheck.json")" "$T/selfcheck.log" \
		server $src ${why:+"$why"} | grep -c '^PASS')
	check thread_slots_${p}judge_passes_true_pairing 4 "$n"
done

# For each library, one tracer with one slot, then one with the default (no variable). The
# OpenSSL checks keep their names; the GnuTLS ones have gnutls_ after the slots.
for slots in 1 default; do
	env=()
	[ $slots = default ] || env=(ALERTTRACE_THREAD_SLOTS=$slots)
	for gen in storm_lib storm_gnutls; do
		p=slots$slots
		[ $gen = storm_lib ] || p=slots${slots}_gnutls
		bg env "${env[@]}" "$AT" --no-wire -j -c $gen >"$T/at.out" 2>"$T/at.err"
		ATPID=$!
		wait_for "$T/at.err" "Tracing TLS alerts" 30 || {
			fail "${p}_tracer_starts" \
				"expected the ready line, got: $(tail -3 "$T/at.err")"
			kill -INT $ATPID
			wait $ATPID
			continue
		}
		if [ $gen = storm_lib ]; then
			storm $gen pv protocol_version 2
			storm $gen ca unknown_ca 1
		else
			storm $gen pv protocol_version 1
			storm $gen ca bad_certificate 1
		fi
		sleep 0.5
		kill -INT $ATPID
		wait $ATPID
		check "${p}_tracer_exits_0" 0 $?
		check "${p}_no_loss_reported" "" "$(grep -i 'lost\|not counted' "$T/at.err")"
		if [ $gen = storm_lib ]; then
			judge "${p}_protocol_version" "$T/at.out" "$(cat "$T/pv.json")" \
				"$T/pv.log" server openssl "unsupported protocol"
			judge "${p}_unknown_ca" "$T/at.out" "$(cat "$T/ca.json")" "$T/ca.log" \
				client openssl "certificate verify failed"
		else
			judge "${p}_protocol_version" "$T/at.out" "$(cat "$T/pv.json")" \
				"$T/pv.log" server gnutls
			judge "${p}_bad_certificate" "$T/at.out" "$(cat "$T/ca.json")" \
				"$T/ca.log" client gnutls
		fi
		rm -f "$T/at.out" "$T/pv.log" "$T/ca.log"
	done
done
