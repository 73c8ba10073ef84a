#!/usr/bin/env python3
"""Compare the alerts alerttrace printed (JSON lines) with what tshark decoded from a capture of
the same interface: field by field, as multisets. tshark is the independent judge.

usage: compare_wire.py ALERTTRACE.jsonl TSHARK.json LOCAL_ADDR[,ADDR] [MIN_PLAIN_CODES] [MIN_ENC]
LOCAL_ADDR: the traced interface's own addresses: a record from them was sent (egress).
Prints PASS/FAIL lines."""
import collections, json, sys

VERSIONS = {0x0300: "SSL3.0", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2",
            0x0304: "TLS1.3"}


def as_list(x):
    return x if isinstance(x, list) else [x]


def tshark_alerts(path, local):
    out = []
    for pkt in json.load(open(path)):
        layers = pkt["_source"]["layers"]
        ip = layers.get("ip") or layers.get("ipv6")
        if not ip or "tcp" not in layers or "tls" not in layers:
            continue
        src = ip.get("ip.src") or ip.get("ipv6.src")
        dst = ip.get("ip.dst") or ip.get("ipv6.dst")
        sport, dport = int(layers["tcp"]["tcp.srcport"]), int(layers["tcp"]["tcp.dstport"])
        for tls in as_list(layers["tls"]):
            if not isinstance(tls, dict):
                continue
            for rec in as_list(tls.get("tls.record", [])):
                if not isinstance(rec, dict) or rec.get("tls.record.content_type") != "21":
                    continue
                ver = VERSIONS.get(int(rec["tls.record.version"], 16), rec["tls.record.version"])
                length = int(rec["tls.record.length"])
                msg = rec.get("tls.alert_message")
                if isinstance(msg, dict) and "tls.alert_message.level" in msg:
                    lvl, code, enc = int(msg["tls.alert_message.level"]), \
                        int(msg["tls.alert_message.desc"]), False
                else:
                    lvl, code, enc = None, None, True
                out.append(("sent" if src in local else "received", src, sport, dst, dport,
                            ver, lvl, code, enc, length))
    return out


def alerttrace_alerts(path):
    out = []
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        if e.get("source") != "wire":
            continue
        out.append((e["direction"], e["saddr"], e["sport"], e["daddr"], e["dport"], e["version"],
                    e["level"], e["code"], e["encrypted"], e["length"]))
    return out


def main():
    ours = collections.Counter(alerttrace_alerts(sys.argv[1]))
    theirs = collections.Counter(tshark_alerts(sys.argv[2], set(sys.argv[3].split(","))))
    min_codes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    min_enc = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    codes = {k[7] for k in theirs if not k[8]}
    enc = sum(n for k, n in theirs.items() if k[8])
    print("   tshark decoded %d alert records (%d plaintext codes: %s, %d encrypted); "
          "alerttrace printed %d" % (sum(theirs.values()), len(codes), sorted(codes), enc,
                                      sum(ours.values())))
    if len(codes) >= min_codes and enc >= min_enc:
        print("PASS workload produced >= %d distinct plaintext alerts and >= %d encrypted"
              % (min_codes, min_enc))
    else:
        print("FAIL workload: expected >= %d plaintext codes and >= %d encrypted, tshark saw %d and %d"
              % (min_codes, min_enc, len(codes), enc))
    if ours == theirs:
        print("PASS alerttrace's alerts equal tshark's, field by field (%d)" % sum(ours.values()))
    else:
        for k in sorted(set(ours) | set(theirs), key=str):
            if ours[k] != theirs[k]:
                print("   mismatch %s: tshark %d, alerttrace %d" % (k, theirs[k], ours[k]))
        print("FAIL alerttrace's alerts differ from tshark's (see mismatches above)")


main()
