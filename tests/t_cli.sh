#!/bin/bash
# Argument handling: every error is one line on stderr with a non-zero exit; help and version.
. "$(dirname "$0")/lib/common.sh"

# expect_err NAME ARGS...: non-zero exit, exactly one line on stderr, nothing on stdout
expect_err() {
	local name=$1; shift
	"$AT" "$@" >"$T/out" 2>"$T/err"; local rc=$?
	local lines=$(wc -l <"$T/err")
	if [ $rc -ne 0 ] && [ "$lines" -ge 1 ] && [ ! -s "$T/out" ] &&
	   [ "$(grep -vc "Try \`alerttrace[-a-z]* --help'" "$T/err")" = 1 ]; then
		pass "$name"
	else
		fail "$name" "rc=$rc, stderr: $(cat $T/err | tr '\n' '|'), stdout: $(head -c 200 $T/out)"
	fi
}
expect_err rejects_bad_pid -p 12x
expect_err rejects_negative_pid -p -5
expect_err rejects_too_many_pids -p 1,2,3,4,5,6,7,8,9
# 0 ends the kernel's pid list: -p 0 would trace every process (found by tests/fuzz/fuzz_cli.c)
expect_err rejects_pid_zero -p 0
expect_err rejects_pid_zero_in_list -p 5,0,7
# glibc argp's hidden --HANG sleeps an hour; a mistyped --H reached it (fuzz_cli.c)
timeout 10 "$AT" --H >"$T/out" 2>"$T/err"
check rejects_argp_hang_abbreviation "64 unknown option '--H'" "$? $(grep -o "unknown option '--H'" "$T/err")"
expect_err rejects_unknown_option --frobnicate
expect_err rejects_stray_argument foo bar baz
expect_err rejects_no_sources --no-wire --no-lib
expect_err rejects_by_without_hist --by container
expect_err rejects_unknown_by_key -H --by pod
expect_err rejects_empty_by_item -H --by container,
expect_err rejects_unknown_metrics_label --textfile /tmp/x.prom --metrics-label pid
expect_err rejects_metrics_label_without_exporter --metrics-label container
expect_err rejects_unknown_alert --explain nosuch
expect_err rejects_out_of_range_alert --explain 256
if [ "$(id -u)" = 0 ]; then
	expect_err rejects_unknown_interface -i nosuchif0
else
	skip rejects_unknown_interface "needs root"
fi
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$AT" >"$T/out" 2>"$T/err"; rc=$?
	if [ $rc -ne 0 ] && grep -q '^alerttrace: missing CAP_.*: run with sudo or grant them$' "$T/err" &&
	   [ "$(wc -l <"$T/err")" = 1 ]; then
		pass not_root_is_one_clear_line
	else
		fail not_root_is_one_clear_line "rc=$rc stderr=$(cat $T/err)"
	fi
fi
"$AT" --help >"$T/help"; rc=$?
[ $rc = 0 ] && grep -q EXAMPLES "$T/help" && grep -q -- '--explain' "$T/help" &&
	pass help_has_examples || fail help_has_examples "rc=$rc"
"$AT" --version | grep -q '^alerttrace ' && pass version_prints || fail version_prints "$("$AT" --version)"
"$AT" --explain unknown_ca | grep -q 48 && pass explain_by_name || fail explain_by_name "no 48"
check list_alerts_has_every_iana_code 36 "$("$AT" --list-alerts | grep -cE '^ *[0-9]+ ')"
