# shellcheck shell=bash
# The body of t_trixie.sh and t_bullseye.sh: another Debian release's own `openssl s_server` and
# `s_client` (chroot into a root made by tools/mkroot-trixie.sh, so they run on that release's
# glibc and libssl) on 127.0.0.1, traced by this host's ./alerttrace (--no-wire -j):
#   lib        --lib ROOT/usr/lib/x86_64-linux-gnu/LIBSSL: the file named on the command line;
#              the peers chrooted; the servers run with -msg (their record of every alert is
#              the judge)
#   discover   no --lib: the tracer must find the library itself once a chrooted process maps
#              it; the clients run with -msg
#   container  the same with each peer in a private mount namespace whose root is ROOT
#              (pivot_root), as container runtimes do it
# So each role is seen both with and without OpenSSL's msg callback set. Cases: unknown_ca over
# TLS 1.3 and DTLS 1.2, protocol_version (1.2 client, 1.3-only server), close_notify in TLS 1.3
# and 1.2, sent first by the client (stdin EOF) and by the server (-www answers, then closes;
# not with SERVER_FIRST=0).
# Set SUITE (trixie, bullseye) and LIBSSL (the file name) and source after common.sh and lib_at.sh.
# The root: AT_ROOT_<SUITE> (e.g. AT_ROOT_TRIXIE), default /var/tmp/alerttrace-SUITE.
need_root "${SUITE}_versions"
need_binary "${SUITE}_versions"
start=$(now)
var=AT_ROOT_${SUITE^^}
ROOT=${!var:-/var/tmp/alerttrace-$SUITE}

t0=$(now)
if ! AT_ROOT_SUITE=$SUITE "$TOP/tools/mkroot-trixie.sh" "$ROOT" 2>"$T/mkroot.log"; then
	fail "${SUITE}_root" "expected a $SUITE root in $ROOT, got: $(tail -4 "$T/mkroot.log" |
		tr '\n' '|')"
	exit 0
fi
sed 's/^/   /' "$T/mkroot.log"
echo "   root ready in $(elapsed "$t0") s"
ROOT=$(realpath "$ROOT")
LIB=$ROOT$LIBDIR/$LIBSSL
[ -f "$LIB" ] || { fail "${SUITE}_root_has_libssl" "expected $LIB, got none"; exit 0; }
VERSION=$(chroot "$ROOT" openssl version)
echo "   $SUITE: $VERSION, $LIB"

# Certificates inside the root (the peers see them as $CDC), removed at exit.
CD=$(mktemp -d "$ROOT/tmp/alerttrace-test.XXXXXX")
CDC=${CD#"$ROOT"}
trap 'rm -rf "$CD"; at_cleanup' EXIT
if ! make_ca_certs "$CD"; then
	fail "${SUITE}_certs" "expected certificates in $CD, got an error"
	exit 0
fi
# For the discovery modes, a private copy of the library (a new inode, as in test_libs_attach's
# ns_copy case): only this run's peers map it, so another process mapping the root's libssl (a
# concurrent run) cannot hook it for them.
mkdir "$CD/lib" && cp "$LIB" "$CD/lib/"

# ccase TAG LIBSPEC NAME SERVER-ARGS CLIENT-ARGS CLIENT-STDIN WANT...
# One session; its checks are queued for when alerttrace has exited. Returns 2 when the library
# was not hooked in discover mode (the remaining cases could only fail the same way).
ccase() {
	local tag=$1 lib=$2 name=$3 sargs=$4 cargs=$5 input=$6 n port slog clog cli w t0
	local smsg=- cmsg=- sflag="" cflag="" args=()
	shift 6
	n=${tag}_$name
	t0=$(now)
	port=$(free_port)
	slog=$T/$n.server.log clog=$T/$n.client.log
	if [ "$MSG" = server ]; then smsg=$slog sflag=-msg; else cmsg=$clog cflag=-msg; fi
	if ! srv_start "$slog" "${RUN[@]}" openssl s_server -accept "127.0.0.1:$port" -naccept 1 \
		-cert "$CDC/srv.pem" -key "$CDC/srv.key" $sflag $sargs; then
		fail "$n" "expected the $SUITE s_server to listen, got: $(head -3 "$slog" |
			tr '\n' '|')"
		return 1
	fi
	if [ "$DISCOVER" = 1 ] && ! grep -qE "$HOOKED" "$T/$tag.err"; then
		local t1
		t1=$(now)
		# alerttrace rescans /proc every second: the new chrooted process maps the library.
		if wait_fore "$T/$tag.err" "$HOOKED" 5; then
			pass "${tag}_finds_the_peers_library ($(elapsed "$t1") s after s_server \
listened: $(grep -m1 -E "$HOOKED" "$T/$tag.err" | cut -d: -f2))"
		else
			fail "${tag}_finds_the_peers_library" "expected alerttrace to hook $LIBSSL \
mapped by pid $SRV_PID ($HOW) within 5 s, got: $(grep -v '^libbpf' "$T/$tag.err" |
				grep -v '^{' | tail -1) (its maps name it $(
				awk -v f="$LIBSSL" '$6 ~ f { print $6; exit }' \
				"/proc/$SRV_PID/maps" 2>/dev/null), its root is $(
				readlink "/proc/$SRV_PID/root"))"
			kill "$SRV_PID" 2>/dev/null
			wait_exit "$SRV_PID" 5
			return 2
		fi
	fi
	printf "$input" >"$T/$n.in"
	"${RUN[@]}" openssl s_client -connect "127.0.0.1:$port" $cflag $cargs <"$T/$n.in" \
		>"$clog" 2>&1 &
	cli=$!
	AT_PIDS+=("$cli")
	wait_exit "$cli" 15 || fail "$n" "expected s_client to finish within 15 s, got a hang"
	wait_exit "$SRV_PID" 10 ||
		fail "$n" "expected s_server to end after one session, got a hang"
	echo "   $n: server pid $SRV_PID, client pid $cli, $(elapsed "$t0") s"
	# What the peers themselves say happened.
	case $name in
	*unknown_ca)
		says "${n}_server_says_alert_unknown_ca" "$slog" "alert unknown ca" s_server
		says "${n}_client_says_verify_failed" "$clog" "certificate verify failed" \
			s_client ;;
	protocol_version)
		says "${n}_client_says_alert_protocol_version" "$clog" "alert protocol version" \
			s_client
		says "${n}_server_says_unsupported_protocol" "$slog" "unsupported protocol" \
			s_server ;;
	close_notify*_client_first)
		says "${n}_server_says_DONE" "$slog" "^DONE" "s_server read the close_notify" ;;
	close_notify*_server_first)
		says "${n}_client_says_closed" "$clog" "^closed" "s_client read the close_notify" ;;
	esac
	for w in "$@"; do args+=(--want "$w"); done
	# TCP sessions: the events carry the connection's ends (DTLS runs over UDP: none).
	[[ $name == dtls* ]] || args+=(--port "$port")
	checklater "$tag" "$n" --peer server "$SRV_PID" "$lib" openssl "$smsg" \
		--peer client "$cli" "$lib" openssl "$cmsg" "${args[@]}"
}

# run_cases TAG LIBSPEC
run_cases() {
	local tag=$1 lib=$2 ca="-CAfile $CDC/ca2.pem -verify_return_error"
	local get='GET / HTTP/1.0\r\n\r\n'
	ccase "$tag" "$lib" tls13_unknown_ca "" "$ca" "" \
		"client sent 2 48 TLS1.3" "server received 2 48 TLS1.3" || return
	ccase "$tag" "$lib" protocol_version "-tls1_3" "-tls1_2" "" \
		"server sent 2 70" "client received 2 70" || return
	ccase "$tag" "$lib" close_notify13_client_first "" "" "" \
		"client sent 1 0 TLS1.3" "server received 1 0 TLS1.3" || return
	ccase "$tag" "$lib" close_notify12_client_first "" "-tls1_2" "" \
		"client sent 1 0 TLS1.2" "server received 1 0 TLS1.2" || return
	if [ "${SERVER_FIRST:-1}" = 1 ]; then
		ccase "$tag" "$lib" close_notify13_server_first "-www" "-ign_eof" "$get" \
			"server sent 1 0 TLS1.3" "client received 1 0 TLS1.3" || return
		ccase "$tag" "$lib" close_notify12_server_first "-www" "-ign_eof -tls1_2" "$get" \
			"server sent 1 0 TLS1.2" "client received 1 0 TLS1.2" || return
	fi
	ccase "$tag" "$lib" dtls12_unknown_ca "-dtls" "-dtls $ca" "" \
		"client sent 2 48 DTLS1.2" "server received 2 48 DTLS1.2" || return
}

# finish TAG: stop alerttrace, then every queued check
finish() {
	at_stop "$1"
	run_checks "$1"
	lib_events_summary "$1"
	check "${1}_no_lost_events" 0 "$(grep -c '"error":"lost' "$T/$1.err")"
}

# mode TAG ALERTTRACE-ARGS...: alerttrace with these arguments, every case, then the checks
mode() {
	local tag=${SUITE}_$1 t0
	shift
	t0=$(now)
	if at_start "$tag" "$@"; then
		if [ "$DISCOVER" = 0 ]; then
			if grep -F "\"path\":\"$LIB\"" "$T/$tag.err" |
				grep -q '"sent":true,"received":true'; then
				pass "${tag}_coverage_report_hooks_sent_and_received"
			else
				fail "${tag}_coverage_report_hooks_sent_and_received" \
					"expected $LIB with sent and received hooked, got: $(
					grep -F "$LIB" "$T/$tag.err" | head -2)"
			fi
		fi
		run_cases "$tag" "$LIBSPEC"
		finish "$tag"
	fi
	echo "   $tag: $(elapsed "$t0") s"
}

# lib: the file named with --lib; the peers chrooted; the servers' -msg is the judge.
RUN=(chroot "$ROOT") MSG=server DISCOVER=0 LIBSPEC=$LIB
mode lib --no-wire -j --lib "$LIB"

# Without --lib the tracer must find the library in the peers' maps: the private copy, which
# the peers load through LD_LIBRARY_PATH. -v: it says when it hooks a library (its JSON stream is
# unchanged). Whatever name it gives a file reached through another root
# (ROOT/tmp/.../libssl..., /proc/PID/root/tmp/.../libssl...), it must be that copy.
re_cd=${CD//./\\.} re_cdc=${CDC//./\\.} re_lib=${LIBSSL//./\\.}
DLIB="(/proc/[0-9]+/root)?$re_cd/lib/$re_lib|/proc/[0-9]+/root$re_cdc/lib/$re_lib"
HOOKED="^libs: ($DLIB): .*probes attached"
MSG=client DISCOVER=1 LIBSPEC=re:$DLIB

# discover: plain chroot, as build and CI sandboxes do it (same mount namespace, other root)
RUN=(chroot "$ROOT" env "LD_LIBRARY_PATH=$CDC/lib") HOW="chroot $ROOT"
mode discover --no-wire -j -v

# container: as container runtimes do it: a private mount namespace whose root is ROOT
# (pivot_root); the namespace, and every mount in it, ends with the peer.
RUN=(unshare -m --propagation private sh -c \
	'mount --bind "$0" "$0" && cd "$0" && pivot_root . mnt && cd / && exec "$@"' "$ROOT" \
	env "LD_LIBRARY_PATH=$CDC/lib")
HOW="mount namespace, pivot_root to $ROOT"
mode container --no-wire -j -v
echo "   t_$SUITE in all: $(elapsed "$start") s"
exit 0
