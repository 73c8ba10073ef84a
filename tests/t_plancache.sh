#!/bin/bash
# The plan cache on disk (user/tls/plancache.h): a first tracer analyses the system libssl and
# keeps its plan in ALERTTRACE_CACHE; a second one hooks libssl from that plan without analysing
# it, with the same hooks, and the hooks work: a real protocol_version alert between openssl
# s_server and s_client is reported sent and received with their pids (the peers' own output says
# which alert it was). A plan whose libcrypto is another build now, a cache directory others may
# write, a corrupt record, a file of another build and ALERTTRACE_CACHE=off each leave the tracer
# analysing afresh, never failing.
. "$(dirname "$0")/lib/common.sh"
need_root plancache
test_prologue plancache openssl python3
. "$TOP/tests/fixtures/lib_path.sh"
LIB=$(realpath /usr/lib/x86_64-linux-gnu/libssl.so.3)
PC=$T/pc
mkdir -m 0700 "$PC"

# librec NAME PATH WHAT: the coverage report's record of PATH in $T/NAME.at.err, or "none":
# WHAT "hooks" gives "cached=C hooks=..." (every boolean hook field), "provider" its provider.
librec() {
	python3 - "$T/$1.at.err" "$2" "$3" <<-'EOF'
	import json, sys
	out = "none"
	for line in open(sys.argv[1], errors="replace"):
	    try:
	        e = json.loads(line)
	    except ValueError:
	        continue
	    if e.get("type") == "library" and e.get("path") == sys.argv[2]:
	        hooks = sorted(k for k, v in e.items() if v is True and k != "cached")
	        out = ("cached=%s hooks=%s" % (e.get("cached"), ",".join(hooks))
	               if sys.argv[3] == "hooks" else e.get("provider"))
	print(out)
	EOF
}
lib() { librec "$1" "$LIB" hooks; }
# prepared NAME: until the binary directories' programs that needed a file read are prepared
# beside the tracer (user/tls/binprep.c), when there were any.
prepared() {
	grep -q "programs of the binary directories to look at" "$T/$1.at.err" || return 0
	wait_for "$T/$1.at.err" "binary directories prepared" 20 ||
		fail "$1_prepared" "no 'binary directories prepared' line: $(tail -2 "$T/$1.at.err")"
}
ondisk() { grep -c "^libs: $LIB: openssl .*(cached on disk)" "$T/$1.at.err"; }

# 1. Cold: analysed, and kept.
: >"$PC/plans-0000000000000000000000000000000000000000" # another build's file
export ALERTTRACE_CACHE=$PC
at_start cold --no-wire -j -v && at_stop cold
cold=$(lib cold)
case $cold in
cached=False\ hooks=*sent*) pass cold_run_analyses_libssl ;;
*) fail cold_run_analyses_libssl "expected cached=False with hooks, got $cold" ;;
esac
n=$(ls "$PC" | grep -c '^plans-')
f=$(ls "$PC" | grep '^plans-' | head -1)
check cold_run_keeps_one_file_of_its_build "1 600" "$n $(stat -c %a "$PC/$f" 2>/dev/null)"
[ -s "$PC/$f" ] && pass cold_run_writes_plans || fail cold_run_writes_plans "$PC/$f is empty"
check other_builds_file_removed 0 "$(ls "$PC" | grep -c '^plans-0000')"

# 2. Warm: the same hooks from disk, and they see a real alert.
P=$(port_block 2)
at_start warm --no-wire -j -v || exit 1
server warm "$P" -naccept 1 -tls1_3 && {
	spid=$SPID skeep=$SKEEP
	client warm "$P" 3 -tls1_2
	cpid=$CPID
	wait_exit "$spid" 5 "$skeep"
}
at_stop warm
check warm_run_same_hooks_from_cache "${cold/cached=False/cached=True}" "$(lib warm)"
check warm_run_says_cached_on_disk 1 "$(ondisk warm)"
peer_said warm cli "SSL alert number 70"
expect warm_alert_sent_by_server "$T/warm.at" "${spid:-0}" sent 2 70 TLS1.2 dispatch
expect warm_alert_received_by_client "$T/warm.at" "${cpid:-0}" received 2 70 TLS1.2 read

# 3. A plan whose aux file (OpenSSL's libcrypto) is now another build is analysed again: the
# build-id kept for it changed (the record's checksum made good again).
python3 - "$PC/$f" <<'EOF'
import struct, sys
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
b = bytearray(open(sys.argv[1], "rb").read())
off = 0
while off + 24 <= len(b):
    n = struct.unpack_from("<I", b, off + 8)[0]
    p = off + 24
    aux = p + 16 + 80
    if b[aux]:
        b[aux] ^= 1
        struct.pack_into("<Q", b, off + 16, fnv(b[p:p + n]))
    off = p + n
open(sys.argv[1], "wb").write(b)
EOF
at_start aux_changed --no-wire -j -v && at_stop aux_changed
check aux_build_changed_analysed_again "0 $cold" "$(ondisk aux_changed) $(lib aux_changed)"

# 4. A directory others may write is not trusted.
chmod 0777 "$PC"
at_start open_dir --no-wire -j -v && at_stop open_dir
check open_dir_not_trusted "1 0 $cold" \
	"$(grep -c 'no plan cache: not trusted' "$T/open_dir.at.err") $(ondisk open_dir) $(lib open_dir)"
chmod 0700 "$PC"

# 5. A corrupt record is skipped: every record's last byte flipped.
python3 - "$PC/$f" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off = 0
while off + 24 <= len(b):
    n = struct.unpack_from("<I", b, off + 8)[0]
    off += 24 + n
    if off <= len(b):
        b[off - 1] ^= 0xff
open(sys.argv[1], "wb").write(b)
EOF
at_start corrupt --no-wire -j -v && at_stop corrupt
check corrupt_records_skipped "1 0 $cold" \
	"$(grep -c 'libs: 0 plans and 0 looks at files read' "$T/corrupt.at.err") $(ondisk corrupt) $(lib corrupt)"

# 7. What a look at each program of the standard directories found is kept too, and holds only
# while the file is unchanged: a program in /usr/local/bin that is no TLS library when a first
# tracer looks (a copy of /bin/true), then rewritten in place into one (libssl's bytes, same
# inode: cp truncates and writes) must be hooked by the next tracer; and back again, not.
unset ALERTTRACE_CACHE
export ALERTTRACE_CACHE=$PC
PROG=/usr/local/bin/at-plancache-$$
cp /bin/true "$PROG" && chmod 0755 "$PROG"
trap 'rm -f "$PROG"; at_cleanup' EXIT
prog() { librec "$1" "$PROG" provider; }
at_start looks_first --no-wire -j -v && prepared looks_first && at_stop looks_first
at_start looks_again --no-wire -j -v && prepared looks_again && at_stop looks_again
check looks_kept_and_read "none none 1" "$(prog looks_first) $(prog looks_again) $(grep -c \
	'libs: [0-9]* plans and [1-9][0-9]* looks at files read' "$T/looks_again.at.err")"
ino=$(stat -c %i "$PROG")
cp "$LIB" "$PROG"
at_start looks_changed --no-wire -j -v && prepared looks_changed && at_stop looks_changed
check looks_file_changed_in_place_hooked "$ino openssl" "$(stat -c %i "$PROG") $(prog looks_changed)"
cp /bin/true "$PROG"
at_start looks_back --no-wire -j -v && prepared looks_back && at_stop looks_back
check looks_file_changed_back_not_hooked "$ino none" "$(stat -c %i "$PROG") $(prog looks_back)"
rm -f "$PROG"

# 6. ALERTTRACE_CACHE=off: no cache at all.
export ALERTTRACE_CACHE=off
at_start off --no-wire -j -v && at_stop off
check off_reads_no_cache "0 0 $cold" \
	"$(grep -c 'looks at files read\|no plan cache' "$T/off.at.err") $(ondisk off) $(lib off)"
