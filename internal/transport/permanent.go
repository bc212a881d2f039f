package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// handshakeRefused starts the text of a HandshakeError. gRPC turns a failed
// handshake into an UNAVAILABLE status whose message quotes the error, so this
// text is how IsPermanent recognises it on the far side of a call.
const handshakeRefused = "TLS handshake refused"

// HandshakeError is a client TLS handshake that can never succeed as
// configured: the coordinator's certificate does not verify (unknown CA, wrong
// name, expired), the server does not speak TLS, or it refused the client's
// certificate. A handshake cut short (EOF, a reset, a timeout) is not one: the
// coordinator may be restarting.
type HandshakeError struct{ Err error }

func (e *HandshakeError) Error() string { return handshakeRefused + ": " + e.Err.Error() }

func (e *HandshakeError) Unwrap() error { return e.Err }

// permanentHandshake reports whether a client handshake error is a refusal
// that retrying cannot cure.
func permanentHandshake(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return true // the server sent a TLS alert: it refuses this client
	}
	var (
		verify  *tls.CertificateVerificationError
		header  tls.RecordHeaderError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &header) ||
		errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// refusingTLS is TLS client credentials whose handshake failures that cannot
// be cured by retrying come back as a HandshakeError. When the server asks for
// a client certificate, ClientHandshake also reads the server's first record:
// with TLS 1.3 the server checks the client's certificate only after the
// client has finished its side, and its refusal ("certificate required", "bad
// certificate") is that record. Bytes read are handed on unchanged.
type refusingTLS struct {
	credentials.TransportCredentials             // TLS with base: Info, ServerHandshake
	base                             *tls.Config // the client's TLS config
}

func (c refusingTLS) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	// Credentials of this handshake alone, to learn whether the server asks
	// for a client certificate.
	var asked atomic.Bool
	cfg := c.base.Clone()
	cfg.GetClientCertificate = clientCertificate(c.base.Certificates, &asked)
	conn, info, err := credentials.NewTLS(cfg).ClientHandshake(ctx, authority, raw)
	if err != nil {
		if permanentHandshake(err) {
			return nil, nil, &HandshakeError{Err: err}
		}
		return nil, nil, err
	}
	if !asked.Load() {
		return conn, info, nil
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultMinConnectTimeout)
	}
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(deadline)
	n, err := conn.Read(buf)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		if permanentHandshake(err) {
			return nil, nil, &HandshakeError{Err: err}
		}
		return nil, nil, err
	}
	return &prefixConn{Conn: conn, prefix: buf[:n]}, info, nil
}

func (c refusingTLS) Clone() credentials.TransportCredentials {
	return refusingTLS{c.TransportCredentials.Clone(), c.base.Clone()}
}

// prefixConn reads prefix before the rest of its connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// clientCertificate chooses the client certificate as crypto/tls does by
// default (the first one the server's request accepts, else none), and notes
// that the server asked.
func clientCertificate(certs []tls.Certificate, asked *atomic.Bool) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked.Store(true)
		for i := range certs {
			if cri.SupportsCertificate(&certs[i]) == nil {
				return &certs[i], nil
			}
		}
		return new(tls.Certificate), nil
	}
}

// clientCredentials returns a client's transport credentials: TLS with tc
// (permanent handshake failures marked), or plaintext for nil.
func clientCredentials(tc *tls.Config) credentials.TransportCredentials {
	if tc == nil {
		return transportCredentials(nil)
	}
	return refusingTLS{transportCredentials(tc), tc}
}

// IsPermanent reports whether a call's error says the client can never work
// with this coordinator as configured: a missing or wrong token
// (Unauthenticated), a refused identity (PermissionDenied), or a TLS handshake
// that can never succeed (HandshakeError, carried in an UNAVAILABLE status).
// Every other error — a coordinator down or restarting, a timeout — is
// transient: retry it with backoff.
func IsPermanent(err error) bool {
	s, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch s.Code() {
	case codes.Unauthenticated, codes.PermissionDenied:
		return true
	case codes.Unavailable:
		return strings.Contains(s.Message(), handshakeRefused)
	}
	return false
}

// CheckAddress refuses a coordinator address that cannot work: an empty one,
// or a host without a port ("127.0.0.1", "coord.cluster"). A gRPC target with
// a scheme ("dns:///host:7870", "unix:///run/eosweep.sock") is left to gRPC.
// The error says what is wrong and what to write instead.
func CheckAddress(addr string) error {
	if addr == "" {
		return errors.New("empty address: want HOST:PORT, e.g. 127.0.0.1:7870")
	}
	if strings.Contains(addr, ":///") || strings.HasPrefix(addr, "unix:") {
		return nil
	}
	_, port, err := net.SplitHostPort(addr) // an empty host is the local one, as for net.Dial
	if err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return fmt.Errorf("%q has no port: want HOST:PORT, e.g. %s", addr, net.JoinHostPort(strings.Trim(addr, "[]"), "7870"))
		}
		return fmt.Errorf("%q: want HOST:PORT: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}
