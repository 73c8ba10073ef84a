// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// The selftest's Go peer (user/selftest_peers.h): Go's own crypto/tls, built into alerttrace at
// build time and run from a memfd like user/peer/st_peer.c, with the same arguments and control
// messages. The server accepts TLS 1.3 only, the client offers TLS 1.2 at most, over the
// socketpair FD: the server sends protocol_version, the client receives it.
//
//	st_go_peer SOURCE ROLE CTL_FD FD    ROLE: 0 server, 1 client
//
// Go says which alert through its errors only: the server's "client offered only unsupported
// versions" is the protocol_version it sends (crypto/tls handshake_server.go), the client's
// "remote error: tls: protocol version not supported" the one it received.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// selftest_peers.h's enum st_kind, bpf/alerttrace.h's directions.
const (
	stReady = 1
	stError = 3
	stAlert = 4
	stDone  = 5

	dirSent     = 1
	dirReceived = 2

	fatal           = 2
	protocolVersion = 70
)

var ctl *os.File

// say writes one struct st_msg (four ints and 256 bytes of text) as one message.
func say(kind, dir, level, code int, text string) {
	b := make([]byte, 16+256)
	binary.LittleEndian.PutUint32(b[0:], uint32(kind))
	binary.LittleEndian.PutUint32(b[4:], uint32(dir))
	binary.LittleEndian.PutUint32(b[8:], uint32(level))
	binary.LittleEndian.PutUint32(b[12:], uint32(code))
	copy(b[16:16+255], text)
	if _, err := ctl.Write(b); err != nil {
		os.Exit(1)
	}
}

func fail(format string, a ...interface{}) {
	say(stError, 0, 0, 0, fmt.Sprintf(format, a...))
	os.Exit(1)
}

// A throwaway self-signed certificate: the client does not verify it.
func certificate() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail("cannot make a key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "alerttrace-selftest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"alerttrace-selftest"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fail("cannot make a certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func main() {
	if len(os.Args) != 5 {
		os.Exit(2)
	}
	role, _ := strconv.Atoi(os.Args[2])
	cfd, _ := strconv.Atoi(os.Args[3])
	fd, _ := strconv.Atoi(os.Args[4])
	ctl = os.NewFile(uintptr(cfd), "ctl")
	conn, err := net.FileConn(os.NewFile(uintptr(fd), "peer"))
	if err != nil {
		fail("cannot use the socket: %v", err)
	}
	var c *tls.Conn
	if role == 0 {
		c = tls.Server(conn, &tls.Config{MinVersion: tls.VersionTLS13,
			Certificates: []tls.Certificate{certificate()}})
	} else {
		c = tls.Client(conn, &tls.Config{MaxVersion: tls.VersionTLS12,
			InsecureSkipVerify: true, ServerName: "alerttrace-selftest"})
	}
	say(stReady, 0, 0, 0, runtime.Version()+" crypto/tls, the selftest's own Go program")
	one := make([]byte, 1)
	if n, _ := ctl.Read(one); n != 1 {
		os.Exit(1)
	}
	err = c.Handshake()
	switch {
	case err == nil:
		say(stDone, 0, 0, 0, "handshake completed")
		return
	case role == 0 && strings.Contains(err.Error(), "unsupported versions"):
		say(stAlert, dirSent, fatal, protocolVersion, "")
	case role == 1 && strings.Contains(err.Error(), "protocol version not supported"):
		say(stAlert, dirReceived, fatal, protocolVersion, "")
	}
	say(stDone, 0, 0, 0, err.Error())
	c.Close()
}
