#!/bin/bash
# alerttrace's GnuTLS provider on trixie's GnuTLS 3.8.x: gnutls-cli and gnutls-serv of the trixie
# root (tools/mkroot-trixie.sh; chroot, so they run on that release's glibc and libgnutls30t64)
# against this host's openssl s_server/s_client on 127.0.0.1, traced by ./alerttrace --no-wire -j,
# one tracer per case. The GnuTLS events must name the root's library (libgnutls.so.30 or the file
# it links to) by a path that reaches it: ROOT/usr/lib/... (a chroot shares our mounts) or
# /proc/PID/root/usr/lib/..., as chroot_suite.sh accepts for libssl; the coverage report must list
# that library with provider gnutls, its version (3.8.x) and both hooks.
# Cases: bad_certificate from gnutls-cli (TLS 1.3), unknown_ca read by gnutls-serv (TLS 1.2),
# close_notify both ways (TLS 1.3), protocol_version to a TLS 1.2-only gnutls-cli. Judged as in
# tests/t_gnutls.sh: the peers' output, GnuTLS's log, tshark with the peers' key logs.
# The root: AT_ROOT_TRIXIE, default /var/tmp/alerttrace-trixie.
. "$(dirname "$0")/../lib/common.sh"
need_root gnutls38
test_prologue gnutls38 openssl tshark python3
. "$TOP/tests/fixtures/lib_path.sh"
. "$TOP/tests/fixtures/gnutls_peers.sh"
ROOT=${AT_ROOT_TRIXIE:-/var/tmp/alerttrace-trixie}

t0=$EPOCHREALTIME
if ! "$TOP/tools/mkroot-trixie.sh" "$ROOT" 2>"$T/mkroot.log"; then
	fail gnutls38_root "expected a trixie root with GnuTLS in $ROOT, got: $(tail -4 "$T/mkroot.log" |
		tr '\n' '|')"
	exit 0
fi
sed 's/^/   /' "$T/mkroot.log"
echo "   root ready in $(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }') s"
ROOT=$(realpath "$ROOT")
GLIB=$ROOT/usr/lib/x86_64-linux-gnu/libgnutls.so.30
[ -f "$GLIB" ] || { fail gnutls38_root_has_libgnutls "expected $GLIB, got none"; exit 0; }
GVER=$(chroot "$ROOT" gnutls-cli --version 2>&1 | head -1)
GVER=${GVER##* }
case $GVER in
3.8.*) pass "gnutls38_root_runs_gnutls_cli ($GVER)" ;;
*) fail gnutls38_root_runs_gnutls_cli "expected gnutls-cli 3.8.x, got '$GVER'"; exit 0 ;;
esac

# Certificates and key logs inside the root (the peers see them as $CDC), removed at exit.
CD=$(mktemp -d "$ROOT/tmp/alerttrace-test.XXXXXX")
CDC=${CD#"$ROOT"}
trap 'rm -rf "$CD"; at_cleanup' EXIT
cp "$C"/*.pem "$C"/*.key "$CD/"
# shellcheck disable=SC2034 # gnutls_server and gnutls_client (gnutls_peers.sh) use them
GNUTLS_PREFIX=(chroot "$ROOT") GC=$CDC GK=$CDC

capture_start 6
# shellcheck disable=SC2034 # pair and wire_checks (gnutls_peers.sh) use it
WIRE=()
P=$BASE
# A chrooted gnutls-serv that maps the root's libgnutls for the whole run: every tracer finds the
# library in its first scan of /proc, before the case's own peers start (a gnutls-cli that fails
# at once could end before the next rescan; the late discovery has tests of its own).
gnutls_server keeper $((P + 5)) || exit 0
KEEPER=$SPID

# The root's libgnutls as alerttrace may name it (an ERE)
RLIB="^($(sed 's/[.]/\\./g' <<<"$ROOT")|/proc/[0-9]+/root)(/usr)?/lib/x86_64-linux-gnu/"
RLIB+="libgnutls\\.so\\.30(\\.[0-9]+)*$"

# gnutls_lib NAME PID: every library event of PID names the root's libgnutls
gnutls_lib() {
	local libs
	libs=$(judge libs "$T/$1.at" "$2" | tr '\n' ' ')
	libs=${libs% }
	if [[ "$libs" =~ $RLIB ]]; then
		pass "$1_events_name_the_roots_libgnutls ($libs)"
	else
		fail "$1_events_name_the_roots_libgnutls" "expected $ROOT/... or /proc/N/root/... \
libgnutls.so.30, got '$libs'"
	fi
}

# 1. bad_certificate (42), TLS 1.3: the chrooted gnutls-cli does not trust s_server's CA.
n=tls13_bad_certificate_gnutls38_client
if pair $n $P openssl gnutls 3 "" "--x509cafile $CDC/other-ca.pem" \
	"sh=TLS1.3 ch=TLS1.3 alerts=client:2/42@0303"; then
	got=$(judge coverage "$T/$n.at.err" gnutls |
		while read -r p h v; do [[ "$p" =~ $RLIB ]] && echo "$h $v"; done | head -1)
	check gnutls38_coverage_report_version "GnuTLS $GVER" "${got#*version=}"
	got=${got%% *}
	check gnutls38_coverage_report_lists_the_roots_libgnutls_sent_received sent,received "$got"
	[ "$got" = sent,received ] || echo "   coverage: $(judge coverage "$T/$n.at.err" gnutls)"
	peer_said $n cli "The certificate issuer is unknown" verify_error
	gnutls_said $n cli sent 2 42
	peer_said $n srv "SSL alert number 42"
	exchange $n client 2 42 TLS1.3
	gnutls_lib $n "$CP"
fi

# 2. unknown_ca (48), TLS 1.2: s_client does not trust the chrooted gnutls-serv, which reads it.
n=tls12_unknown_ca_to_gnutls38_server
if pair $n $((P + 1)) gnutls openssl 3 "" "-tls1_2 -CAfile $C/other-ca.pem -verify_return_error" \
	"sh=TLS1.2 ch=TLS1.2 alerts=client:2/48@0303"; then
	peer_said $n cli "verify error:num=20" verify_error
	gnutls_said $n srv received 2 48
	exchange $n client 2 48 TLS1.2
	gnutls_lib $n "$SP"
fi

# 3. close_notify, TLS 1.3: the chrooted gnutls-cli's stdin ends, it says goodbye; s_server
# answers and gnutls-cli reads the answer.
n=tls13_close_notify_gnutls38_client_first
if pair $n $((P + 2)) openssl gnutls 1 "" "--x509cafile $CDC/ca.pem" \
	"sh=TLS1.3 ch=TLS1.3 alerts=client:1/0@0303,server:1/0@0303"; then
	gnutls_said $n cli sent 1 0
	gnutls_said $n cli received 1 0
	peer_said $n srv "DONE" "done"
	exchange $n client 1 0 TLS1.3
	exchange $n server 1 0 TLS1.3
	gnutls_lib $n "$CP"
fi

# 4. protocol_version (70): a TLS 1.3-only s_server, a TLS 1.2-only chrooted gnutls-cli.
n=protocol_version_tls12_gnutls38_client
if pair $n $((P + 3)) openssl gnutls 3 "-tls1_3" \
	"--x509cafile $CDC/ca.pem --priority=NORMAL:-VERS-ALL:+VERS-TLS1.2" \
	"sh=none ch=TLS1.2 alerts=server:2/70@0303"; then
	peer_said $n srv "unsupported protocol" error
	peer_said $n cli "*** Received alert [70]: Error in protocol version"
	gnutls_said $n cli received 2 70
	exchange $n server 2 70 TLS1.2 "$(gnutls_hello_version $n)"
	gnutls_lib $n "$CP"
fi

kill "$KEEPER" 2>/dev/null
wait "$KEEPER" 2>/dev/null
wire_checks "$T" "$CD"
exit 0
