#!/bin/bash
# dist/alerttrace.service. PID 1 here is not systemd, so the unit cannot be started: what systemd
# checks offline, and every hardening setting against what a real run does.
#  - installed with `make install` (PREFIX=/usr/local, no DESTDIR) in a mount namespace of the
#    test's own, /usr/local an overlay there: `systemd-analyze verify` passes with no message
#    (the ExecStart binary exists, man alerttrace(8) is found), and `systemd-analyze security
#    --offline` rates its exposure OK or SAFE;
#  - its capability set is the one README.md documents, in both AmbientCapabilities= and
#    CapabilityBoundingSet= (t_privilege.sh proves that set works for a user other than root);
#  - its TEXTFILE lies in a directory the unit makes writable (StateDirectory=, ReadWritePaths=);
#  - the tracer run as the unit runs it (-H --textfile, without CAP_SYS_ADMIN, here in a network
#    namespace with an openssl pair making an alert) under strace: every system call it makes is in the unit's
#    SystemCallFilter= (groups expanded by systemd-analyze syscall-filter), every socket family
#    in RestrictAddressFamilies=, every setns() a network namespace (RestrictNamespaces=net), and
#    every path it writes, creates, renames or removes lies in /run/alerttrace
#    (RuntimeDirectory=) or the textfile's directory: ProtectSystem=strict leaves it nothing else.
. "$(dirname "$0")/lib/common.sh"
need_root service
test_prologue service systemd-analyze strace unshare make python3 openssl
UNIT=$TOP/dist/alerttrace.service
key() { sed -n "s/^$1=//p" "$UNIT"; }

mkdir -p "$T/ov"
unshare -m --propagation private bash -c '
	mount -t tmpfs at-svc "$1" && mkdir "$1/u" "$1/w" &&
	mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$1/u,workdir=$1/w" /usr/local || exit 9
	make -s -C "$2" install >"$1/make.out" 2>&1 || { cat "$1/make.out"; exit 8; }
	systemd-analyze verify /usr/local/lib/systemd/system/alerttrace.service >"$1/verify" 2>&1
	echo "rc=$?" >>"$1/verify"
	systemd-analyze security --offline=yes /usr/local/lib/systemd/system/alerttrace.service \
		>"$1/security" 2>&1
	cp "$1/verify" "$1/security" "$3/"' _ "$T/ov" "$TOP" "$T"
rc=$?
[ $rc = 0 ] || { fail service_install "installing into an overlay of /usr/local failed (rc=$rc)"; exit 1; }
check systemd_analyze_verify_passes_silently "rc=0" "$(cat "$T/verify")"
level=$(grep -oE 'Overall exposure level for alerttrace.service: [0-9.]+ [A-Z]+' "$T/security")
[[ "$level" =~ \ (OK|SAFE)$ ]] && pass "security_exposure_ok: ${level##*: }" ||
	fail security_exposure_ok "expected OK or SAFE, got '${level##*: }': $(tail -2 "$T/security")"

documented=$(sed -n 's/^The capability set: `\(.*\)`.*/\1/p' "$TOP/README.md" | tr ' ' '\n' | sort | tr '\n' ' ')
[ -n "$documented" ] || fail readme_documents_the_set "no line 'The capability set: \`...\`' in README.md"
check unit_ambient_set_is_the_documented_one "$documented" \
	"$(key AmbientCapabilities | tr ' ' '\n' | sort | tr '\n' ' ')"
check unit_bounding_set_is_the_documented_one "$documented" \
	"$(key CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ')"
tf=$(key Environment | sed -n 's/^TEXTFILE=//p')
tfdir=$(dirname "$tf")
ok=no
[ "$tfdir" = "/var/lib/$(key StateDirectory)" ] && ok=yes
for p in $(key ReadWritePaths); do [ "${p#-}" = "$tfdir" ] && ok=yes; done
check unit_textfile_dir_is_writable_there yes "$ok"

# A run as the unit's ExecStart, with an alert to count.
NS=at_svc_$$
ip netns add $NS && AT_NETNS+=($NS) && ip -n $NS link set lo up ||
	{ fail service_netns "cannot create a network namespace"; exit 1; }
P=$(( 32000 + RANDOM % 2000 ))
bg ip netns exec $NS openssl s_server -tls1_3 -accept 127.0.0.1:$P -cert "$C/server.pem" \
	-key "$C/server.key" -quiet </dev/null >"$T/srv.log" 2>&1
mkdir -p "$T/tf"
# Without CAP_SYS_ADMIN, which the unit's CapabilityBoundingSet= leaves out (root keeps the rest).
# (make sanitize: LeakSanitizer cannot run under ptrace, and a report goes to the tracer's stderr,
# not to a log file outside the paths the unit allows; ASan's other checks still run.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:log_path=stderr \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=stderr \
	bg ip netns exec $NS setpriv --bounding-set -sys_admin strace -f -qq -o "$T/st" -e signal=none \
	"$AT" -H --textfile "$T/tf/alerttrace.prom" -i lo >"$T/at.out" 2>"$T/at.err"
ATP=$!
wait_for "$T/at.err" 'Tracing TLS alerts' 40 ||
	{ fail service_start "the tracer did not start: $(tail -3 "$T/at.err")"; exit 1; }
TRACEE=$(pgrep -P $ATP)	# strace's child: the tracer, which SIGINT ends cleanly (strace would not)
AT_PIDS+=($TRACEE)
ip netns exec $NS openssl s_client -tls1_2 -connect 127.0.0.1:$P </dev/null >"$T/cli.log" 2>&1
sleep 2
kill -INT $TRACEE
wait $ATP
grep -q 'alert number 70' "$T/cli.log" || fail service_workload "the client saw no alert 70"
grep -q 'alerttrace_alerts_total{source="wire"' "$T/tf/alerttrace.prom" 2>/dev/null ||
	fail service_run_counted "no wire series in the textfile: $(head -c 300 "$T/tf/alerttrace.prom")"

systemd-analyze syscall-filter >"$T/groups" 2>&1
python3 - "$T/st" "$T/groups" "$UNIT" "$T/tf" <<'EOF'
import re, sys
trace, groups_txt, unit, tfdir = sys.argv[1:5]
groups, cur = {}, None
for line in open(groups_txt):
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    if not line.startswith(" ") and s.startswith("@"):
        cur = s
        groups[cur] = []
    elif cur:
        groups[cur].append(s)
def expand(n, seen):
    if not n.startswith("@"):
        return {n}
    if n in seen:
        return set()
    seen.add(n)
    return set().union(*[expand(m, seen) for m in groups.get(n, [])] or [set()])
conf = {}
for line in open(unit):
    if "=" in line and not line.startswith("#"):
        k, v = line.rstrip("\n").split("=", 1)
        conf[k] = v
allowed = set()
for n in conf["SystemCallFilter"].split():
    allowed |= expand(n, set())
families = set(conf["RestrictAddressFamilies"].split())
used, socks, setns, writes = set(), set(), set(), []
call = re.compile(r"^\d+ +(?:<\.\.\. )?([a-z0-9_]+)[( ]")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
for line in open(trace):
    m = call.match(line)
    if not m:
        continue
    name = m.group(1)
    if " resumed>" in line:
        continue
    used.add(name)
    args = line[m.end():]
    if name == "socket":
        socks.add(args.split(",")[0].strip("( "))
    elif name == "setns":
        setns.add(args.split(",")[1].split(")")[0].strip())
    elif name in ("open", "openat", "creat") and (name == "creat" or WRITE_FLAGS.search(args)):
        writes += re.findall(r'"([^"]*)"', args)[:1]
    elif name in ("mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
                  "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat",
                  "truncate", "mknod", "mknodat"):
        writes += re.findall(r'"([^"]*)"', args)
def res(name, bad, what, n):
    print("PASS %s: %d checked" % (name, n) if not bad else
          "FAIL %s: expected %s, got %s" % (name, what, " ".join(sorted(bad))))
res("syscalls_in_the_units_filter", used - allowed, "every system call in SystemCallFilter=", len(used))
res("socket_families_in_restrict_address_families", socks - families,
    "every family in RestrictAddressFamilies=", len(socks))
res("setns_only_into_network_namespaces", setns - {"CLONE_NEWNET"}, "setns(fd, CLONE_NEWNET) only",
    len(setns))
ok_dirs = ("/run/alerttrace/", tfdir.rstrip("/") + "/")
bad = {w for w in writes if not (w + "/").startswith(ok_dirs)}
res("writes_only_where_the_unit_allows", bad, "writes under %s only" % " ".join(ok_dirs), len(writes))
EOF
