#!/bin/bash
# The hook analyser (user/tls/ossl_hooks.c) against truth it does not compute itself:
#  - fixtures linked from libssl.a + libcrypto.a (Debian's libssl-dev ships them with symbols):
#    a PIE and a non-PIE program and a shared object; the analyser runs on stripped copies and
#    must find what nm of the unstripped build names (ssl3/dtls1 dispatch_alert, the read probe
#    inside ssl3/dtls1_read_bytes, ERR_vset_error/ERR_put_error); the same for bullseye's 1.1.1
#    and trixie's 3.5 static libraries (tools/fetch-openssl.sh);
#  - this machine's libssl.so.3 and the fetched libssl.so.1.1 / libssl.so.3 (3.5): probes inside
#    .eh_frame FDEs as readelf reads them, build-id as readelf reads it, version text as the
#    library reports it, offsets equal to the fixture's of the same version;
#  - at run time (tests/fixtures/ossl_probe_check.c): an int3 at the computed probe in a live
#    libssl sees the alert and the SSL* in the named registers (host 3.0 and bullseye 1.1.1).
# Prints PASS/FAIL/SKIP lines and the analysis time per library.
set -u
cd "$(dirname "$0")/.."
BIN=.output/tests/test_ossl_hooks
LIBDIR=/usr/lib/x86_64-linux-gnu
OSSL_DIR=${AT_OSSL_DIR:-/var/tmp/alerttrace-openssl}
T=$(mktemp -d /tmp/t_analyser.XXXXXX)
trap 'rm -rf "$T"' EXIT

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
skip() { echo "SKIP $*"; }
get() { sed -n "s/^$1=//p" "$2" | head -1; }
hex() { printf '0x%x' "$(($1))"; }
nm_addr() {
	local a; a=$(nm "$1" 2>/dev/null | awk -v s="$2" '$3 == s && $2 ~ /[TtWw]/ { print $1; exit }')
	[ -n "$a" ] && hex "0x$a"
}
nm_size() { nm -S "$1" 2>/dev/null | awk -v s="$2" '$4 == s { print "0x" $2; exit }'; }
# FDE ranges as binutils reads them: "start end" per line, decimal (mawk has no hex input)
fdes() {
	readelf -wf "$1" 2>/dev/null | sed -n 's/.* FDE .*pc=\([0-9a-f]*\)\.\.\([0-9a-f]*\).*/\1 \2/p' |
		while read -r s e; do echo $((16#$s)) $((16#$e)); done
}
in_fde() { # FILE-OF-FDES ADDR [exact-start]
	awk -v a="$(($2))" -v exact="${3:-0}" '
		exact && $1 == a { f = 1 } !exact && $1 <= a && a < $2 { f = 1 }
		END { exit !f }' "$1"
}
eq() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected $2, got $3"; return 1; fi
}
# vaddr -> file offset through readelf's PT_LOAD lines
file_off() {
	local v=$(($2)) off va fs
	readelf -lW "$1" | awk '$1 == "LOAD" { print $2, $3, $5 }' | while read -r off va fs; do
		if [ "$v" -ge $((va)) ] && [ "$v" -lt $((va + fs)) ]; then
			hex $((v - va + off))
			break
		fi
	done
}

[ -x "$BIN" ] || { fail "t_analyser: $BIN not built: run make tests"; exit 1; }
for t in gcc nm readelf strip objdump; do
	command -v $t >/dev/null || { fail "t_analyser: $t missing: run make deps"; exit 1; }
done

analyse() { # FILE OUT -> prints the time
	"$BIN" "$1" >"$2" 2>&1
	local rc=$? ms
	ms=$(get ms "$2")
	echo "   analysed $(basename "$1") in ${ms} ms ($(get layout "$2"), $(get version "$2"))"
	if [ $rc -ne 0 ]; then
		fail "analyse_$(basename "$1"): expected an analysis, got refusal: $(get why "$2")"
		return 1
	fi
	if awk -v m="$ms" 'BEGIN { exit !(m < 2000) }'; then
		pass "analyse_time_$(basename "$1") (${ms} ms)"
	else
		fail "analyse_time_$(basename "$1"): expected under 2000 ms, got $ms ms"
	fi
}

# Every probe ok, inside the FDEs binutils reads, at the file offset the program headers give.
check_fdes() { # NAME FILE OUT
	local n=$1 f=$2 o=$3 k a
	fdes "$f" >"$T/fdes"
	[ -s "$T/fdes" ] || { fail "${n}_fdes: readelf shows no FDE in $f"; return; }
	for k in dispatch dtls_dispatch read dtls_read err; do
		eq "${n}_${k}_ok" 1 "$(get $k.ok "$o")" || echo "   why: $(get $k.why "$o")"
	done
	for k in dispatch.vaddr dtls_dispatch.vaddr read.func dtls_read.func; do
		a=$(get $k "$o")
		if in_fde "$T/fdes" "$a" 1; then pass "${n}_${k%.*}_is_fde_start"
		else fail "${n}_${k%.*}_is_fde_start: expected an FDE starting at $a, got none"; fi
	done
	for k in read dtls_read; do
		local a fs fe; a=$(get $k.vaddr "$o"); fs=$(get $k.func "$o"); fe=$(get $k.func_end "$o")
		if in_fde "$T/fdes" "$a" && [ $((a)) -gt $((fs)) ] && [ $((a)) -lt $((fe)) ]; then
			pass "${n}_${k}_probe_inside_function"
		else
			fail "${n}_${k}_probe_inside_function: expected $a inside $fs..$fe, got outside"
		fi
		eq "${n}_${k}_file_off" "$(file_off "$f" "$a")" "$(get $k.file_off "$o")"
	done
	eq "${n}_ssl_offsets_ok" 1 "$(get ssl.ok "$o")" || echo "   why: $(get ssl.why "$o")"
}

# Stripped copy against nm of the unstripped file.
check_nm() { # NAME UNSTRIPPED STRIPPED-OUT UNSTRIPPED-OUT
	local n=$1 f=$2 o=$3 u=$4 k s a sz
	eq "${n}_stripped_from_symbols" 0 "$(get from_symbols "$o")"
	eq "${n}_unstripped_from_symbols" 1 "$(get from_symbols "$u")"
	eq "${n}_ssl3_dispatch_alert" "$(nm_addr "$f" ssl3_dispatch_alert)" "$(get dispatch.vaddr "$o")"
	eq "${n}_dtls1_dispatch_alert" "$(nm_addr "$f" dtls1_dispatch_alert)" \
		"$(get dtls_dispatch.vaddr "$o")"
	for k in "read ssl3_read_bytes" "dtls_read dtls1_read_bytes"; do
		set -- $k
		s=$(nm_addr "$f" "$2"); sz=$(nm_size "$f" "$2"); a=$(get "$1.vaddr" "$o")
		eq "${n}_$2_start" "$s" "$(get "$1.func" "$o")"
		if [ -n "$s" ] && [ $((a)) -gt $((s)) ] && [ $((a)) -lt $((s + sz)) ]; then
			pass "${n}_$2_contains_probe ($a)"
		else
			fail "${n}_$2_contains_probe: expected $a inside nm's $s+$sz, got outside"
		fi
	done
	s=$(nm_addr "$f" ERR_vset_error); [ -n "$s" ] || s=$(nm_addr "$f" ERR_put_error)
	eq "${n}_err_symbol" "$s" "$(get err.vaddr "$o")"
	# symbols or not, the same probes and offsets
	for k in read.vaddr read.alert_reg read.ssl_reg dtls_read.vaddr dtls_read.alert_reg \
		dtls_read.ssl_reg ssl.off_version ssl.off_method ssl.off_s3 ssl.off_send_alert layout; do
		eq "${n}_same_with_symbols_$k" "$(get $k "$u")" "$(get $k "$o")"
	done
}

# Build fixtures from one libssl-dev tree (ROOT: "" for the host) into $T/NAME*.
EXPORTS=""
for s in TLS_method DTLS_method SSL_version SSL_get_ssl_method SSL_get_shutdown SSL_CTX_new \
	ERR_vset_error ERR_put_error; do EXPORTS="$EXPORTS -Wl,--export-dynamic-symbol=$s"; done
printf '{ global: SSL_*; TLS_*; DTLS_*; ERR_*; OpenSSL_*; fixture_*; local: *; };\n' >"$T/fx.map"
build_fixtures() { # NAME ROOT KINDS...
	local n=$1 r=$2 inc="" k; shift 2
	[ -n "$r" ] && inc="-I$r/usr/include -I$r/usr/include/x86_64-linux-gnu"
	local a="$r$LIBDIR/libssl.a $r$LIBDIR/libcrypto.a"
	for k in "$@"; do
		case $k in
		pie) gcc -O2 -pie -fPIE $inc -o "$T/${n}_pie" tests/fixtures/ossl_fixture.c $EXPORTS $a \
			-lpthread ;;
		nopie) gcc -O2 -no-pie $inc -o "$T/${n}_nopie" tests/fixtures/ossl_fixture.c $EXPORTS $a \
			-lpthread ;;
		# a shared object may keep newer-glibc references undefined: trixie's archives
		# link here although its programs could not run
		so) gcc -O2 -fPIC -shared -DFX_SHARED $inc -o "$T/${n}_so" tests/fixtures/ossl_fixture.c \
			-Wl,--version-script="$T/fx.map" -Wl,-u,ERR_vset_error -Wl,-u,ERR_put_error $a \
			-lpthread ;;
		esac >"$T/build.log" 2>&1 || { fail "build_${n}_$k: link failed: $(tail -1 "$T/build.log")"
			continue; }
		strip -o "$T/${n}_${k}.stripped" "$T/${n}_$k"
		analyse "$T/${n}_${k}.stripped" "$T/${n}_$k.out" || continue
		analyse "$T/${n}_$k" "$T/${n}_$k.uout" || continue
		check_nm "${n}_$k" "$T/${n}_$k" "$T/${n}_$k.out" "$T/${n}_$k.uout"
		check_fdes "${n}_$k" "$T/${n}_${k}.stripped" "$T/${n}_$k.out"
	done
}

same_offsets() { # NAME OUT-A OUT-B: two builds of one version agree on the SSL layout
	local k
	for k in ssl.off_version ssl.off_method ssl.off_method_version ssl.off_s3 \
		ssl.off_send_alert ssl.off_shutdown layout; do
		eq "$1_$k" "$(get $k "$2")" "$(get $k "$3")"
	done
}

runtime_check() { # NAME OUT ROOT LIB-DIR
	local n=$1 o=$2 r=$3 d=$4 inc="" libs="-lssl -lcrypto"
	if [ -n "$r" ]; then
		inc="-I$r/usr/include -I$r/usr/include/x86_64-linux-gnu"
		libs="$(ls "$d"/libssl.so.* | head -1) $(ls "$d"/libcrypto.so.* | head -1)"
	fi
	if ! gcc -O2 -Wno-deprecated-declarations $inc -o "$T/pc_$n" tests/fixtures/ossl_probe_check.c \
		$libs >"$T/build.log" 2>&1; then
		fail "runtime_${n}_build: expected the probe checker to build, got: $(tail -1 "$T/build.log")"
		return
	fi
	# private copies: uprobes a running tracer put on the originals would catch the int3 first
	mkdir -p "$T/lib_$n"
	cp "$d"/libssl.so.* "$d"/libcrypto.so.* "$T/lib_$n/"
	LD_LIBRARY_PATH="$T/lib_$n" timeout 60 "$T/pc_$n" "$o" "$n"
	local rc=$?
	[ $rc -le 1 ] || fail "runtime_$n: checker exited with status $rc"
}

# ---- this machine ----
SYS=$LIBDIR/libssl.so.3
if [ -r "$SYS" ]; then
	analyse "$SYS" "$T/sys.out" && {
		check_fdes host_libssl "$SYS" "$T/sys.out"
		eq host_build_id "$(readelf -n "$SYS" | sed -n 's/.*Build ID: //p')" "$(get build_id "$T/sys.out")"
		v=$(openssl version 2>/dev/null | sed -n 's/.*(Library: \(.*\))$/\1/p')
		[ -n "$v" ] || v=$(openssl version 2>/dev/null)
		eq host_version "$v" "$(get version "$T/sys.out")"
		eq host_layout 111 "$(get layout "$T/sys.out")"
		eq host_dispatch_done 1 "$(get dispatch_done.ok "$T/sys.out")"
		eq host_err_path "$LIBDIR/libcrypto.so.3" "$(get err_path "$T/sys.out")"
		eq host_err_vset_error "$(hex 0x$(nm -D --defined-only "$LIBDIR/libcrypto.so.3" |
			awk '$3 ~ /^ERR_vset_error(@|$)/ { print $1; exit }'))" "$(get err.vaddr "$T/sys.out")"
		runtime_check host "$T/sys.out" "" "$LIBDIR"
	}
	if [ -r $LIBDIR/libssl.a ]; then
		build_fixtures host "" pie nopie so
		[ -f "$T/host_so.out" ] && same_offsets host_fixture_vs_libssl_so "$T/sys.out" "$T/host_so.out"
		[ -f "$T/host_pie.uout" ] && eq host_fixture_version "$("$T/host_pie")" \
			"$(get version "$T/host_pie.out")"
	else
		skip "host_fixtures: $LIBDIR/libssl.a missing (apt-get install libssl-dev)"
	fi
else
	skip "host_libssl: $SYS missing"
fi

# ---- other Debian builds ----
if ! bash tools/fetch-openssl.sh "$OSSL_DIR" >"$T/fetch.log" 2>&1; then
	skip "other_versions: tools/fetch-openssl.sh failed: $(tail -1 "$T/fetch.log")"
	exit 0
fi
for suite in bullseye trixie; do
	d=$OSSL_DIR/$suite$LIBDIR
	lib=$(ls "$d"/libssl.so.* 2>/dev/null | head -1)
	[ -n "$lib" ] || { fail "${suite}_libssl: expected a libssl in $d, got none"; continue; }
	echo "   $suite: $(cat "$OSSL_DIR/$suite/VERSION")"
	analyse "$lib" "$T/$suite.out" || continue
	check_fdes "${suite}_libssl" "$lib" "$T/$suite.out"
	eq "${suite}_build_id" "$(readelf -n "$lib" | sed -n 's/.*Build ID: //p')" \
		"$(get build_id "$T/$suite.out")"
	up=$(awk '{ print $2 }' "$OSSL_DIR/$suite/VERSION" | sed 's/-[^-]*$//; s/^[0-9]*://')
	case "$(get version "$T/$suite.out")" in
	"OpenSSL $up "*) pass "${suite}_version ($(get version "$T/$suite.out"))" ;;
	*) fail "${suite}_version: expected OpenSSL $up, got $(get version "$T/$suite.out")" ;;
	esac
	eq "${suite}_layout" "$([ $suite = trixie ] && echo 320 || echo 111)" "$(get layout "$T/$suite.out")"
	# the one-probe dispatch where the write is a direct call (1.1.1-3.1), not in 3.2+
	eq "${suite}_dispatch_done" "$([ $suite = trixie ] && echo 0 || echo 1)" \
		"$(get dispatch_done.ok "$T/$suite.out")"
	if [ -r "$OSSL_DIR/$suite-dev$LIBDIR/libssl.a" ]; then
		build_fixtures "$suite" "$OSSL_DIR/$suite-dev" so
		[ -f "$T/${suite}_so.out" ] &&
			same_offsets "${suite}_fixture_vs_libssl_so" "$T/$suite.out" "$T/${suite}_so.out"
	else
		fail "${suite}_fixtures: expected $OSSL_DIR/$suite-dev, got none"
	fi
	# trixie's libssl needs glibc 2.38: its programs cannot run here
	[ $suite = bullseye ] && runtime_check bullseye "$T/$suite.out" "$OSSL_DIR/$suite-dev" "$d"
done
exit 0
