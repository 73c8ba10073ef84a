#!/bin/bash
# libFuzzer targets (tests/fuzz/fuzz_*.c, built into .output-fuzz/ with ASan and UBSan): first every
# regression input under tests/fuzz/regress/TARGET/ is replayed, then each target fuzzes for
# FUZZ_TIME seconds (default 4; make fuzz: 120) from a seed corpus built here from the host's
# files: libssl, libcrypto and libgnutls, a Go program built with Debian's Go (cached in
# /var/tmp/alerttrace-fuzz), small ELF files made with gcc, slices of libssl's functions, example
# events and command lines. A crash, a sanitizer report or a leak fails the target; its input is
# kept under $FUZZ_ARTIFACTS (default /var/tmp/alerttrace-fuzz/artifacts) and printed in hex.
. "$(dirname "$0")/lib/common.sh"
FZ="$TOP/.output-fuzz"
TIME=${FUZZ_TIME:-4}
CACHE=/var/tmp/alerttrace-fuzz
ART=${FUZZ_ARTIFACTS:-$CACHE/artifacts}
LIBDIR=/usr/lib/x86_64-linux-gnu
mkdir -p "$CACHE" "$ART"
for t in bin analyse x86 event cli container; do
	[ -x "$FZ/fuzz_$t" ] || { fail "fuzz_${t}_build" "no $FZ/fuzz_$t: run make fuzz-build"; exit 1; }
done
command -v go >/dev/null || { fail fuzz_tools "go not found: run make deps"; exit 1; }

# --- seed corpora ---
S=$T/seeds
mkdir -p "$S"/{elf,small,x86,event,cli,container}
for f in libssl.so.3 libcrypto.so.3 libgnutls.so.30; do
	[ -e "$LIBDIR/$f" ] || { fail fuzz_seeds "$LIBDIR/$f missing: run make deps"; exit 1; }
	cp -L "$LIBDIR/$f" "$S/elf/$f"
done
# A Go program that links crypto/tls (the Go provider's path), stripped: functions from .gopclntab.
if [ ! -s "$CACHE/go_seed" ]; then
	mkdir -p "$CACHE/gosrc"
	cat >"$CACHE/gosrc/main.go" <<'EOF'
package main

import (
	"crypto/tls"
	"os"
)

func main() {
	c, err := tls.Dial("tcp", "127.0.0.1:1", &tls.Config{})
	if err == nil {
		c.Close()
	}
	os.Exit(0)
}
EOF
	printf 'module fuzzseed\n\ngo 1.19\n' >"$CACHE/gosrc/go.mod"
	(cd "$CACHE/gosrc" && GOCACHE=$CACHE/gocache GOFLAGS=-trimpath CGO_ENABLED=0 \
		go build -ldflags='-s -w' -o "$CACHE/go_seed" .) ||
		{ fail fuzz_seeds "go build of the Go seed failed"; exit 1; }
fi
cp "$CACHE/go_seed" "$S/elf/go_seed"
# Small files mutate 100 times faster: a shared library, an object file, a static program
# without libc, and the first 64 KiB of libssl (tables that point past the end).
printf 'int at_fuzz_seed(int x) { return x * 3; }\n' >"$T/small.c"
printf 'void _start(void) { for (;;) ; }\n' >"$T/nolibc.c"
gcc -shared -fPIC -O1 -o "$S/small/small.so" "$T/small.c" && gcc -c -O1 -o "$S/small/small.o" "$T/small.c" &&
	gcc -static -nostdlib -O1 -o "$S/small/nolibc" "$T/nolibc.c" ||
	{ fail fuzz_seeds "gcc could not build the small ELF seeds"; exit 1; }
head -c 65536 "$S/elf/libssl.so.3" >"$S/small/libssl_head"
# Function bodies of libssl (.dynsym addresses, file offsets from its program headers), a
# leading 0: analyse the whole slice.
python3 - "$S/elf/libssl.so.3" "$S/x86" <<'EOF' || { fail fuzz_seeds "libssl slices"; exit 1; }
import struct, subprocess, sys
path, out = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
phoff, = struct.unpack_from('<Q', data, 0x20)
phnum, = struct.unpack_from('<H', data, 0x38)
loads = []
for i in range(phnum):
    p_type, flags, off, va, _, filesz = struct.unpack_from('<IIQQQQ', data, phoff + 56 * i)
    if p_type == 1 and flags & 1:
        loads.append((va, off, filesz))
n = 0
for line in subprocess.run(['nm', '-D', '-S', '--defined-only', path], capture_output=True,
                           text=True).stdout.splitlines():
    f = line.split()
    if len(f) != 4 or f[2] not in 'Tt':
        continue
    va, size = int(f[0], 16), int(f[1], 16)
    if not 32 <= size <= 3000:
        continue
    for lva, loff, lsz in loads:
        if lva <= va < lva + lsz:
            o = va - lva + loff
            open('%s/%s' % (out, f[3][:40]), 'wb').write(b'\0' + data[o:o + size])
            n += 1
            break
    if n == 40:
        break
sys.exit(0 if n >= 10 else 1)
EOF
# Events: wire plaintext and encrypted (IPv4, IPv6), library events with a path; the mode byte:
# bit 0 JSON, bit 1 -T, bit 2 a library path follows, bit 3 a second event follows.
python3 - "$S/event" <<'EOF' || { fail fuzz_seeds "event seeds"; exit 1; }
import struct, sys
def ev(src, d, lvl, code, flags, ipv, ver, ln, sp, dp, sa, da, pid, hook, comm, sess, ts=10**18):
    b = struct.pack("<QBBBBBBBBHHHHI16s16sIIII4xQQ16siI64s", ts, src, d, lvl, code, flags, ipv,
                    hook, 0, ver, ln, sp, dp, 1, sa, da, pid, pid, 0, 1, 5, sess, comm, 0, 0, b'')
    assert len(b) == 184
    return b
v4 = bytes([127, 0, 0, 1]) + bytes(12)
v6 = bytes(15) + b'\1'
seeds = {
    'wire_plain': ev(1, 1, 2, 40, 0x18, 4, 0x303, 2, 443, 5555, v4, v4, 42, 0, b'openssl', 0),
    'wire_encrypted': ev(1, 2, 0, 0, 0x11, 6, 0x303, 26, 443, 5555, v6, v6, 0, 0, b'', 0),
    'openssl_sent': ev(2, 1, 1, 0, 0x0a, 0, 0x304, 0, 0, 0, bytes(16), bytes(16), 7, 1,
                       b'curl', 0x55aa),
    'go_recv': ev(4, 2, 2, 48, 0x08, 0, 0, 0, 0, 0, bytes(16), bytes(16), 9, 7, b'goclient', 0),
}
# a wire event and the library's observation of the same alert (bit 3: two events, matched)
open('%s/pair' % sys.argv[1], 'wb').write(
    seeds['wire_plain'] + bytes([9]) +
    ev(2, 1, 2, 40, 0x0a, 0, 0x303, 0, 0, 0, bytes(16), bytes(16), 42, 1, b'openssl', 0x77))
for name, b in seeds.items():
    for mode in (0, 1, 2, 5, 7):
        lib = b'/usr/lib/x86_64-linux-gnu/libssl.so.3' if mode & 4 else b''
        open('%s/%s_%d' % (sys.argv[1], name, mode), 'wb').write(b + bytes([mode]) + lib)
EOF
i=0
while IFS= read -r line; do
	i=$((i + 1))
	printf '%s' "$line" | tr ' ' '\0' >"$S/cli/$i"
done <<'EOF'
-i lo,eth0 -T
-p 1234,5678 -c nginx --fatal
--port 443,8443 --sent
-H -P 5 3
-H --prometheus 127.0.0.1:9800 --metrics-pid
-H 15 --textfile /tmp/x.prom
--no-wire -v --lib /usr/lib/libssl.so.3 --lib /opt/go/app
--explain unknown_ca
--list-alerts
--selftest -j
-jH --received --port=443
EOF

# cgroup paths named as the runtimes name theirs (container.h)
id=4a1c9e0d2f3b8a7c6d5e4f30291817161514131211100f0e0d0c0b0a09080706
uid=8f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f
i=0
for p in /system.slice/docker-$id.scope /docker/$id /machine.slice/libpod-conmon-$id.scope \
	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid//-/_}.slice/cri-containerd-$id.scope \
	/kubepods.slice/kubepods-pod${uid//-/_}.slice/crio-$id.scope/container \
	/kubepods/besteffort/pod$uid/$id /kubepods/pod$uid/crio-$id /user.slice/user-0.slice/session-1.scope; do
	i=$((i + 1))
	printf '%s' "$p" >"$S/container/$i"
done

# run NAME MAXLEN EXTRA-OPTIONS...: replay the regressions (once per target), then fuzz from the
# seeds in $S/$SEEDS for $TIME seconds.
run() {
	local t=$1 maxlen=$2 out rc n label=fuzz_$1
	shift 2
	case $SEEDS in small | elf) label=fuzz_${t}_$SEEDS ;; esac
	local bin=$FZ/fuzz_$t reg=$TOP/tests/fuzz/regress/$t
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ] && [ "$SEEDS" != small ]; then
		out=$("$bin" "$@" -timeout=20 "$reg"/* 2>&1)
		rc=$?
		if [ $rc -eq 0 ]; then
			pass "fuzz_${t}_regressions"
		else
			nfail=$((nfail + 1))
		fail "fuzz_${t}_regressions" "status $rc: $(echo "$out" | grep -m3 -E 'ERROR|SUMMARY|fuzz_')"
		fi
	fi
	mkdir -p "$T/corpus_$t"
	out=$(nice -n 10 "$bin" "$@" -max_total_time="$TIME" -max_len="$maxlen" -len_control=0 \
		-timeout=20 -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$ART/$t-" \
		"$T/corpus_$t" "$S/$SEEDS" 2>&1)
	rc=$?
	n=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
	if [ $rc -eq 0 ] && [ -n "$n" ]; then
		echo "fuzz_$t: $n inputs in ${TIME} s from the $SEEDS seeds, corpus $(ls "$T/corpus_$t" | wc -l)"
		pass "$label"
	else
		echo "$out" | grep -E -A12 'ERROR|fuzz_[a-z]+:' | head -40
		for a in $(echo "$out" | sed -n "s/.*Test unit written to \(.*\)/\1/p"); do
			echo "input $a: $(head -c 512 "$a" | od -An -tx1 | tr -d ' \n')"
		done
		nfail=$((nfail + 1))
		fail "$label" "status $rc (input kept in $ART)"
	fi
}
# The ELF targets twice: from the small files (thousands of inputs a second), then from the
# real ones (tens a second), each for half the time.
nfail=0
big=$(stat -c %s "$S"/elf/* | sort -n | tail -1)
full=$TIME
TIME=$(( (full + 1) / 2 ))
for t in bin analyse; do
	SEEDS=small run $t 70000
	SEEDS=elf run $t "$big"
done
TIME=$full
SEEDS=x86 run x86 4096
SEEDS=event run event 4096
SEEDS=container run container 1024
# argp's parser state is left allocated when a usage error returns through longjmp: no leak check.
ASAN_OPTIONS=detect_leaks=0 SEEDS=cli run cli 1024
[ "$nfail" -eq 0 ]
