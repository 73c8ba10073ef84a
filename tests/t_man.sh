#!/bin/bash
# The man page, doc/alerttrace.8: groff renders it without a single warning (-ww), and it names
#  - every long option `alerttrace --help` prints (parsed from the help itself), and --selftest;
#  - every JSON key README.md's JSON schema documents (parsed from README.md: the first column of
#    its table, "key": in its examples, backticked names in its prose);
#  - every metric name the exporter writes (parsed from a rendering by the metrics code:
#    `alerttrace -H --textfile` when root, else the names in README.md);
#  - the sections of a bcc man page that the issue asks for.
. "$(dirname "$0")/lib/common.sh"
MAN="$TOP/doc/alerttrace.8"
for c in groff python3; do
	command -v $c >/dev/null || { fail man_tools "$c not found: run make deps"; exit 1; }
done
[ -x "$AT" ] || { fail man_build "no $AT: run make"; exit 1; }

groff -ww -man -Tutf8 "$MAN" >"$T/man.utf8" 2>"$T/warn"; rc=$?
if [ $rc = 0 ] && [ ! -s "$T/warn" ] && [ -s "$T/man.utf8" ]; then
	pass renders_without_warnings
else
	fail renders_without_warnings "groff rc=$rc: $(head -5 "$T/warn" | tr '\n' '|')"
fi
if command -v man >/dev/null; then
	MANWIDTH=80 man -l "$MAN" >/dev/null 2>"$T/manwarn"
	[ ! -s "$T/manwarn" ] && pass man_l_renders_without_warnings ||
		fail man_l_renders_without_warnings "$(head -3 "$T/manwarn" | tr '\n' '|')"
fi
# Plain text for the checks: ASCII hyphens, no overstriking.
groff -man -Tascii -P-c -P-b -P-u "$MAN" 2>/dev/null >"$T/man.txt"

# words_in NAME KIND FILE FROM TO: every word of FILE (one a line), as a whole word, in the part
# of the page from the heading line FROM to the heading line TO (where it is documented, not
# merely mentioned elsewhere).
words_in() {
	python3 - "$T/man.txt" "$3" "$1" "$2" "$4" "$5" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
words = [w for w in open(sys.argv[2]).read().split() if w]
name, kind, frm, to = sys.argv[3:7]
m = re.search(r"^ *%s\n(.*?)^ *%s\n" % (re.escape(frm), re.escape(to)), text, re.S | re.M)
text = m.group(1) if m else ""
missing = [w for w in words if not re.search(r'(?<![\w-])' + re.escape(w) + r'(?![\w-])', text)]
if not words:
    print("FAIL %s: no %s found to check" % (name, kind))
elif missing:
    print("FAIL %s: expected every %s in the man page, missing: %s" % (name, kind, " ".join(missing)))
else:
    print("PASS %s: %d %s" % (name, len(words), kind))
EOF
}

"$AT" --help | grep -oE '^ +(-[^ ,], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$T/opts"
echo --selftest >>"$T/opts"
words_in has_every_long_option_of_help "long options" "$T/opts" OPTIONS OUTPUT
"$AT" --help | grep -oE '^ +-[^ -],' | tr -d ' ,' | sort -u >"$T/shorts"
words_in has_every_short_option_of_help "short options" "$T/shorts" OPTIONS OUTPUT

python3 - "$TOP/README.md" >"$T/keys" <<'EOF'
import re, sys
md = open(sys.argv[1]).read()
sec = md[md.index("## JSON schema"):]
sec = sec[:sec.index("\n## ", 5)]
sec = sec[:sec.index("Metrics:")]          # the metric names are checked on their own
keys = set()
for line in sec.splitlines():
    if line.startswith("|"):
        first = line.split("|")[1]
        keys.update(re.findall(r"`([a-z_]+)`", first))
    else:
        keys.update(re.findall(r'"([a-z_]+)":', line))
        for tok in re.findall(r"`([^`]+)`", line):
            if re.fullmatch(r"[a-z_.]+", tok):
                keys.update(tok.split("."))
keys.discard("key")
print("\n".join(sorted(keys)))
EOF
words_in has_every_json_key_of_readme "JSON keys" "$T/keys" "JSON stream (-j)" Metrics

# The metric names: from what the exporter writes when we may run it, else README.md.
if [ "$(id -u)" = 0 ]; then
	timeout 10 "$AT" -H 1 1 --no-wire --textfile "$T/m.prom" >/dev/null 2>"$T/m.err"
	grep -oE '^# TYPE alerttrace_[a-z_]+' "$T/m.prom" 2>/dev/null | sed 's/^# TYPE //' | sort -u >"$T/metrics"
	[ -s "$T/metrics" ] || fail metrics_rendered "no metrics written: $(tail -2 "$T/m.err")"
else
	grep -oE 'alerttrace_[a-z_]+' "$TOP/README.md" | sort -u >"$T/metrics"
fi
words_in has_every_metric "metric names" "$T/metrics" Metrics EXAMPLES

printf '%s\n' NAME SYNOPSIS DESCRIPTION OPTIONS OUTPUT EXAMPLES OVERHEAD CAVEATS FILES \
	'EXIT STATUS' 'SEE ALSO' >"$T/sections"
missing=$(while read -r s; do grep -qx "$s" "$T/man.txt" || echo "$s"; done <"$T/sections")
[ -z "$missing" ] && pass has_every_section || fail has_every_section "missing: $missing"
