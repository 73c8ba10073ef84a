#!/usr/bin/env python3
"""Check the library events alerttrace printed (JSON lines, -j) for one TLS session between two
peers against what the case must produce and, where a peer ran with OpenSSL's `-msg`, against
that peer's own record of every alert it wrote and read (the independent judge).

usage: compare_lib.py AT.jsonl CASE [--peer ROLE PID LIB COMM [MSGLOG]]... [--want SPEC]...
                      [--port PORT]
  ROLE    server | client
  LIB     the path every event of this peer must name in "lib"; "re:REGEX" for a pattern
  COMM    the process name events must carry
  MSGLOG  the peer's output with -msg, or - when it ran without
  SPEC    "ROLE sent|received LEVEL CODE [VERSION]", e.g. "client sent 2 48 TLS1.3": exactly one
          such event from ROLE's pid (sent: hook dispatch, written; received: hook read)
With a MSGLOG, the peer's alerts as -msg printed them (">>>" written, "<<<" read: level, code
and protocol version) must equal, as multisets, its events (written sends and reads). No peer
may show an ERR-fallback event: alerttrace attaches it only where the read probe is missing.
With --port, every event must carry 127.0.0.1:PORT as the server's end (the sender's first) and
both peers' events one client port.
Prints the events, then PASS/FAIL lines named CASE_...; exit status 0."""
import collections, json, re, sys

# What OpenSSL's msg callback (apps/lib/s_cb.c) prints for versions it knows; DTLS 1.2 shows as
# "Not TLS data or unknown version (version=65277, ...)" and is read from that number.
VERSIONS = {0x0300: "SSL3.0", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2",
            0x0304: "TLS1.3", 0xfeff: "DTLS1.0", 0xfefd: "DTLS1.2", 0x0100: "DTLS1.0"}
LEVELS = {1: "warning", 2: "fatal"}

# 1.1.1 prints a DTLS 1.2 alert as "??? [length 0002]" (no version, no type): two bytes can only
# be an alert (record headers are 5 or 13 bytes, inner content types and CCS 1), compared without
# the version.
MSG_RE = re.compile(r"^(>>>|<<<) (?:(\S+ [0-9.]+), Alert|Not TLS data or unknown version "
                    r"\(version=(\d+), content_type=21\)|(\?\?\?)) \[length 0002\]")
HEX_RE = re.compile(r"^\s+([0-9a-f]{2}) ([0-9a-f]{2})\s*$")


def msg_alerts(path):
    """(direction, level, code, version) for every alert in a -msg log."""
    out, lines = [], open(path, errors="replace").read().splitlines()
    for i, line in enumerate(lines):
        m = MSG_RE.match(line)
        if not m or i + 1 >= len(lines):
            continue
        h = HEX_RE.match(lines[i + 1])
        if not h:
            continue
        if m.group(2):
            ver = m.group(2).replace(" ", "")
        elif m.group(3):
            ver = VERSIONS.get(int(m.group(3)), "0x%04x" % int(m.group(3)))
        else:
            ver = "?"
        out.append(("sent" if m.group(1) == ">>>" else "received", int(h.group(1), 16),
                    int(h.group(2), 16), ver))
    return out


def show(e):
    return "%s %s %s %d %s %s%s" % (e.get("direction"), e.get("hook"),
                                    LEVELS.get(e.get("level"), e.get("level")), e.get("code"),
                                    e.get("alert"), e.get("version"),
                                    "" if e.get("written", True) else " (not written)")


def main():
    a = sys.argv[1:]
    if len(a) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    at, case, a = a[0], a[1], a[2:]
    peers, wants, port = {}, [], None
    while a:
        if a[0] == "--peer" and len(a) >= 5:
            role, pid, lib, comm = a[1], int(a[2]), a[3], a[4]
            log = a[5] if len(a) > 5 and not a[5].startswith("--") else "-"
            peers[role] = dict(pid=pid, lib=lib, comm=comm, log=log)
            a = a[6:] if len(a) > 5 and not a[5].startswith("--") else a[5:]
        elif a[0] == "--want" and len(a) >= 2:
            wants.append(a[1].split())
            a = a[2:]
        elif a[0] == "--port" and len(a) >= 2:
            port = int(a[1])
            a = a[2:]
        else:
            print("compare_lib.py: bad argument %s" % a[0], file=sys.stderr)
            return 2
    events = []
    for line in open(at, errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("source") == "openssl":
            events.append(e)
    by_pid = collections.defaultdict(list)
    for e in events:
        by_pid[e.get("pid")].append(e)
    for role, p in sorted(peers.items()):
        for e in by_pid[p["pid"]]:
            print("   %s: %s pid %d (%s): %s lib %s" % (case, role, p["pid"], e.get("comm"),
                                                       show(e), e.get("lib")))
        if not by_pid[p["pid"]]:
            print("   %s: %s pid %d: no events" % (case, role, p["pid"]))

    def lib_ok(p, e):
        lib = e.get("lib", "")
        if p["lib"].startswith("re:"):
            return re.fullmatch(p["lib"][3:], lib) is not None
        return lib == p["lib"]

    for w in wants:
        role, d, level, code = w[0], w[1], int(w[2]), int(w[3])
        ver = w[4] if len(w) > 4 else None
        p = peers[role]
        name = "%s_%s_%s_%s" % (case, role, d, "%d_%d" % (level, code))
        hook = "dispatch" if d == "sent" else "read"
        got = [e for e in by_pid[p["pid"]] if e.get("direction") == d and
               e.get("level") == level and e.get("code") == code and e.get("hook") == hook]
        want_s = "one %s event from %s pid %d, level %d code %d%s" % (
            d, role, p["pid"], level, code, " " + ver if ver else "")
        if len(got) != 1:
            print("FAIL %s: expected %s, got %d such: %s" % (
                name, want_s, len(got), "; ".join(show(e) for e in by_pid[p["pid"]]) or "none"))
            continue
        e, bad = got[0], []
        if ver and e.get("version") != ver:
            bad.append("version %s" % e.get("version"))
        if d == "sent" and e.get("written") is not True:
            bad.append("written %s" % e.get("written"))
        if not lib_ok(p, e):
            bad.append("lib %s" % e.get("lib"))
        if e.get("comm") != p["comm"]:
            bad.append("comm %s" % e.get("comm"))
        if d == "sent" and ver and ver.startswith("DTLS") != (e.get("dtls") is True):
            bad.append("dtls %s" % e.get("dtls"))
        if bad:
            print("FAIL %s: expected %s, lib %s, comm %s, got %s" % (
                name, want_s, p["lib"], p["comm"], ", ".join(bad)))
        else:
            print("PASS %s (%s %s)" % (name, e.get("alert"), e.get("version")))

    # --port: the session ran over TCP on 127.0.0.1 to the server's PORT (the test chose it):
    # every event names it, the sender's end first, and both peers name one client port.
    if port is not None:
        cports, bad = set(), []
        for role, p in sorted(peers.items()):
            for e in by_pid[p["pid"]]:
                srv_sent = (role == "server") == (e.get("direction") == "sent")
                sp, dp = e.get("sport"), e.get("dport")
                srv, cli = (sp, dp) if srv_sent else (dp, sp)
                if (e.get("saddr"), e.get("daddr")) != ("127.0.0.1", "127.0.0.1") or srv != port:
                    bad.append("%s %s" % (role, show(e)))
                cports.add(cli)
        name = "%s_events_carry_the_connections_ends" % case
        if bad or len(cports) > 1 or None in cports:
            print("FAIL %s: expected 127.0.0.1:%d and one client port, got %s (client ports %s)"
                  % (name, port, "; ".join(bad) or "-", sorted(map(str, cports))))
        elif cports:
            print("PASS %s (127.0.0.1:%d, client port %s)" % (name, port, cports.pop()))

    for role, p in sorted(peers.items()):
        evs = by_pid[p["pid"]]
        err = [e for e in evs if e.get("hook") not in ("dispatch", "read")]
        name = "%s_%s_no_fallback_or_unknown_hook" % (case, role)
        if err:
            print("FAIL %s: expected only dispatch/read events, got %s" % (
                name, "; ".join(show(e) for e in err)))
        else:
            print("PASS %s" % name)
        if p["log"] == "-":
            continue
        name = "%s_%s_events_equal_its_msg_log" % (case, role)
        try:
            judge = collections.Counter(msg_alerts(p["log"]))
        except OSError as x:
            print("FAIL %s: expected a -msg log, got %s" % (name, x))
            continue
        seen = collections.Counter(
            (e["direction"], e["level"], e["code"], e["version"]) for e in evs
            if e.get("hook") in ("dispatch", "read") and e.get("written", True))
        if any(k[3] == "?" for k in judge):
            judge = collections.Counter(k[:3] + ("?",) for k in judge.elements())
            seen = collections.Counter(k[:3] + ("?",) for k in seen.elements())
        if not judge:
            print("FAIL %s: expected alerts in %s, got none" % (name, p["log"]))
        elif judge == seen:
            print("PASS %s (%s)" % (name, ", ".join(
                "%s %d/%d %s" % k + ("" if n == 1 else " x%d" % n)
                for k, n in sorted(judge.items()))))
        else:
            fmt = lambda c: ", ".join("%s %d/%d %s x%d" % (k + (n,)) for k, n in
                                      sorted(c.items())) or "none"
            print("FAIL %s: expected (from -msg) %s, got %s" % (name, fmt(judge), fmt(seen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
