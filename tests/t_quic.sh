#!/bin/bash
# QUIC Initial packets opened by the loader's decoder (user/wire/quic.c): the RFC 9001 / RFC 9369
# sample keys and packet (test_quic itself), then datagrams built here with python's cryptography
# package, its own HKDF and AES-GCM: closes by a server and a client, v1 and v2, coalesced and
# padded, a transport error, a flow whose client Initial was not seen, and packets that are not
# QUIC Initials.
. "$(dirname "$0")/lib/common.sh"
python3 -c 'import cryptography' 2>/dev/null || { fail quic_vectors "python3-cryptography missing: run make deps"; exit 1; }
python3 "$TOP/tests/fixtures/quic_vectors.py" "$T/vectors" || { fail quic_vectors "generator failed"; exit 1; }
"$TOP/.output/tests/test_quic" "$T/vectors"
