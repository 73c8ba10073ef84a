#!/bin/bash
# A socket passed to another process: a listener accepts each connection and passes it
# (SCM_RIGHTS) to a worker it started with fork then exec (tests/fixtures/passfd_server.py,
# python's ssl on the system libssl), which runs the TLS 1.3-only server side; clients offering
# at most TLS 1.2 get protocol_version from the worker. The accept tracepoint names the listener;
# the worker's library probe at the alert claims the connection (README, Attribution), so the
# server side's wire event of the alert must name the worker, not the process that accepted, and
# be paired with the worker's openssl event (same_as) on the same connection.
#
# The judges: the pids are the ones the listener and the worker print of themselves; the
# connection of each client is the one its own socket reports; the worker prints the client port
# of each connection it got; the client's own error names protocol_version.
. "$(dirname "$0")/lib/common.sh"
need_root passed_socket
test_prologue passed_socket python3 openssl
NS=at_pass_$$
ip netns add $NS && AT_NETNS+=("$NS") && ip -n $NS link set lo up ||
	{ fail passed_socket_netns "cannot create a network namespace"; exit 1; }
PCL="$TOP/tests/fixtures/port_client.py"
PORT=$(( 5700 + (RANDOM % 50) * 10 ))
N=4

bg nsenter --net=/run/netns/$NS "$AT" -j -i lo >"$T/at.out" 2>"$T/at.err"
ATP=$!
wait_for "$T/at.err" "Tracing TLS alerts" 30 ||
	{ fail passed_socket_tracer_start "no 'Tracing' line: $(tail -3 "$T/at.err")"; exit 1; }
bg ip netns exec $NS python3 "$TOP/tests/fixtures/passfd_server.py" $PORT $N \
	"$C/server.pem" "$C/server.key" >"$T/srv.out" 2>&1
wait_for "$T/srv.out" "^listener" 10 && wait_for "$T/srv.out" "^worker" 10 ||
	{ fail passed_socket_server_start "$(tail -3 "$T/srv.out")"; exit 1; }
LPID=$(awk '$1 == "listener" { print $2 }' "$T/srv.out")
WPID=$(awk '$1 == "worker" { print $2 }' "$T/srv.out")
check passed_socket_two_processes 1 "$([ -n "$LPID" ] && [ -n "$WPID" ] &&
	[ "$LPID" != "$WPID" ] && echo 1)"

: >"$T/conns"
for k in $(seq 1 $N); do
	timeout 10 ip netns exec $NS python3 "$PCL" 127.0.0.1 $PORT 1.2 >"$T/cli.$k" 2>&1
	echo "c$k $(awk '$1 == "local" { print $3 }' "$T/cli.$k") \
$(grep -c '^error.*PROTOCOL_VERSION\|^error.*protocol version' "$T/cli.$k")" >>"$T/conns"
done
sleep 1.5
kill -INT $ATP
wait $ATP
check passed_socket_tracer_exit 0 $?

python3 - "$T/at.out" "$T/conns" "$T/srv.out" "$LPID" "$WPID" "$PORT" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and '"ts"' in l]
conns = [l.split() for l in open(sys.argv[2])]
served = {l.split()[1] for l in open(sys.argv[3]) if l.startswith("served")}
lpid, wpid, port = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]

def check(name, exp, got):
    name = "passed_socket_" + name
    print("PASS %s" % name if exp == got else "FAIL %s: expected %r, got %r" % (name, exp, got))

for name, cport, pv in conns:
    check(name + "_client_got_protocol_version", "1", pv)
    check(name + "_worker_served_this_connection", True, cport in served)
    w = [e for e in evs if e["source"] == "wire" and e["direction"] == "sent" and
         str(e.get("sport")) == port and str(e.get("dport")) == cport and
         e["alert"] == "protocol_version"]
    l = [e for e in evs if e["source"] == "openssl" and e["direction"] == "sent" and
         e.get("pid") == wpid and e["alert"] == "protocol_version" and
         str(e.get("sport")) == port and str(e.get("dport")) == cport]
    check(name + "_one_wire_event_sent_by_the_server", 1, len(w))
    check(name + "_one_openssl_event_of_the_worker", 1, len(l))
    if len(w) == 1:
        check(name + "_wire_owner_is_the_worker_not_the_acceptor", wpid, w[0].get("pid"))
        if len(l) == 1:
            check(name + "_wire_and_library_matched", True,
                  w[0].get("same_as") == l[0]["id"] or l[0].get("same_as") == w[0]["id"])
# The first connection's accept named the listener (the tracer saw it accept): without the
# worker's claim its wire event would say the listener.
check("listener_pid_never_on_a_server_alert", [],
      [e["id"] for e in evs if e["source"] == "wire" and str(e.get("sport")) == port and
       e.get("pid") == lpid])
EOF
