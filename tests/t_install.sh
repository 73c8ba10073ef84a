#!/bin/bash
# make install / make uninstall with PREFIX and DESTDIR:
#  - into a temporary DESTDIR with the default PREFIX (/usr/local): exactly the binary (0755,
#    byte for byte ./alerttrace, runs --version), alerttrace(8), the unit (its ExecStart names the
#    installed binary), the sysusers.d file and the bash completion (0644 each), nothing else;
#  - man(1) finds the page there by name; the completion offers exactly the long options --help
#    prints, completes --inter to --interface and --explain unknown_c to unknown_ca;
#  - PREFIX=/opt/at moves every file under it, the unit's ExecStart too;
#  - make uninstall leaves no file behind.
. "$(dirname "$0")/lib/common.sh"
for c in make install man bash; do
	command -v $c >/dev/null || { fail install_tools "$c not found: run make deps"; exit 1; }
done
[ -x "$AT" ] || { fail install_build "no $AT: run make"; exit 1; }
D=$T/dest
mk() { make -s -C "$TOP" "$@" >"$T/make.out" 2>&1 || { fail "make_$1" "$(tail -3 "$T/make.out")"; exit 1; }; }

mk install DESTDIR="$D"
want="755 usr/local/sbin/alerttrace
644 usr/local/share/man/man8/alerttrace.8
644 usr/local/lib/systemd/system/alerttrace.service
644 usr/local/lib/sysusers.d/alerttrace.conf
644 usr/local/share/bash-completion/completions/alerttrace"
got=$(cd "$D" && find . -type f -printf '%m %P\n' | sort)
check installs_exactly_these_files_and_modes "$(echo "$want" | sort)" "$got"
BIN=$D/usr/local/sbin/alerttrace
# make install installs ./alerttrace (not ALERTTRACE_BIN's build: make sanitize's).
cmp -s "$TOP/alerttrace" "$BIN" && pass installed_binary_is_the_build ||
	fail installed_binary_is_the_build "differs from $TOP/alerttrace"
"$BIN" --version >"$T/ver" 2>&1 && grep -qE '^alerttrace [^ ]+$' "$T/ver" &&
	pass installed_binary_runs_version || fail installed_binary_runs_version "$(head -c 200 "$T/ver")"
check unit_execstart_names_the_installed_binary \
	"ExecStart=/usr/local/sbin/alerttrace -H --textfile \${TEXTFILE}" \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/alerttrace.service")"
found=$(MANPATH="$D/usr/local/share/man" man -w alerttrace 2>&1)
check man_finds_the_installed_page "$D/usr/local/share/man/man8/alerttrace.8" "$found"

# complete WORDS...: what the installed completion offers for the last word, sorted, one a line.
complete_words() {
	PATH="$D/usr/local/sbin:$PATH" bash -c '
		. "$0"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_alerttrace
		printf "%s\n" "${COMPREPLY[@]}" | sort' \
		"$D/usr/local/share/bash-completion/completions/alerttrace" "$@"
}
"$AT" --help | grep -oE '^ +(-[^ ,], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$T/opts"
check completion_offers_every_long_option_of_help "$(cat "$T/opts")" "$(complete_words alerttrace --)"
check completion_completes_a_prefix --interface "$(complete_words alerttrace --inter)"
check completion_completes_alert_names unknown_ca "$(complete_words alerttrace --explain unknown_c)"
complete_words alerttrace -i "" | grep -qx lo && pass completion_offers_interfaces ||
	fail completion_offers_interfaces "no lo among: $(complete_words alerttrace -i "" | tr '\n' ' ')"

mk uninstall DESTDIR="$D"
left=$(find "$D" -type f)
check uninstall_leaves_no_file "" "$left"

mk install DESTDIR="$D" PREFIX=/opt/at
got=$(cd "$D" && find . -type f -printf '%P\n' | grep -vc '^opt/at/')
check prefix_moves_every_file 0 "$got"
check prefix_moves_the_units_execstart "ExecStart=/opt/at/sbin/alerttrace -H --textfile \${TEXTFILE}" \
	"$(grep '^ExecStart=' "$D/opt/at/lib/systemd/system/alerttrace.service" 2>/dev/null)"
mk uninstall DESTDIR="$D" PREFIX=/opt/at
check prefix_uninstall_leaves_no_file "" "$(find "$D" -type f)"
