#!/bin/bash
# alerttrace's library path on bullseye's OpenSSL 1.1.1w as bullseye itself ships and runs it
# (its own openssl s_server/s_client in a chroot; the build from bullseye main, not the security
# build tests/t_lib_111.sh fetches): see chroot_suite.sh.
# 1.1.1's s_server closes the socket before its close_notify in -www and -rev modes (its -msg
# log shows none): the server-first close_notify cases need 3.x; t_lib_111.sh has a 1.1.1 client
# that receives one (lib_peer, lib_client).
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/versions/lib_at.sh"
SUITE=bullseye
LIBSSL=libssl.so.1.1
SERVER_FIRST=0
. "$TOP/tests/versions/chroot_suite.sh"
