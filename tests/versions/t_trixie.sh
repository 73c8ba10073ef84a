#!/bin/bash
# alerttrace's library path on trixie's OpenSSL 3.5.x (SSL_METHOD layout of 3.2 and later, new
# record layer), run by trixie's own openssl s_server/s_client in a chroot: see chroot_suite.sh.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/versions/lib_at.sh"
SUITE=trixie
LIBSSL=libssl.so.3
. "$TOP/tests/versions/chroot_suite.sh"
