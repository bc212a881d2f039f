package transport

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Sentinel errors for inconsistent configurations.
var (
	// ErrHalfKeyPair is returned when only one of a certificate and its key is given.
	ErrHalfKeyPair = errors.New("certificate and key must be given together")
	// ErrClientCAWithoutTLS is returned for a client CA on a server without a certificate.
	ErrClientCAWithoutTLS = errors.New("a client CA needs the server's own certificate and key")
	// ErrInsecureToken is returned when a client would send its token in plaintext.
	ErrInsecureToken = errors.New("a bearer token needs TLS (give a CA) or an explicit insecure allowance")
	// ErrNoCerts is returned for a CA file holding no PEM certificate.
	ErrNoCerts = errors.New("no PEM certificate found")
)

// ServerConfig configures an eosweep gRPC server. The zero value serves
// plaintext without authentication, with the default keepalive.
type ServerConfig struct {
	// CertFile is the PEM certificate chain to serve TLS with; given with
	// KeyFile, it turns TLS on.
	CertFile string
	// KeyFile is the PEM private key of CertFile.
	KeyFile string
	// ClientCAFile is a PEM CA bundle; when set, clients must present a
	// certificate it signed (mutual TLS).
	ClientCAFile string
	// Token, when set, must come as a bearer token with every RPC; health
	// checks are exempt.
	Token Secret

	// KeepaliveTime is how long a client connection may be idle before the
	// server pings it. Zero means DefaultKeepaliveTime.
	KeepaliveTime time.Duration
	// KeepaliveTimeout is how long the server waits for a ping's answer
	// before it drops the connection. Zero means DefaultKeepaliveTimeout.
	KeepaliveTimeout time.Duration
	// MinPingInterval is how often a client may ping at most, also without
	// an RPC in flight (idle workers ping too); a client pinging more often
	// is disconnected. Zero means DefaultMinPingInterval.
	MinPingInterval time.Duration
}

// ClientConfig configures an eosweep gRPC client. The zero value dials
// plaintext without a token, with the default keepalive, reconnect backoff
// and retry policy.
type ClientConfig struct {
	// TLS dials with TLS; it is implied by CAFile or CertFile.
	TLS bool
	// CAFile is the PEM CA bundle that signed the server's certificate;
	// empty means the system roots.
	CAFile string
	// CertFile is the PEM client certificate for mutual TLS.
	CertFile string
	// KeyFile is the PEM private key of CertFile.
	KeyFile string
	// ServerName is the name expected in the server's certificate; empty
	// means the dialled host.
	ServerName string
	// Token is the bearer token sent with every RPC.
	Token Secret
	// AllowInsecureToken sends the token even over plaintext (loopback
	// tests, private networks).
	AllowInsecureToken bool

	// KeepaliveTime is how long the connection may be idle before the client
	// pings the server; keep it at or above the server's MinPingInterval.
	// Zero means DefaultKeepaliveTime.
	KeepaliveTime time.Duration
	// KeepaliveTimeout is how long the client waits for a ping's answer
	// before it closes the connection and reconnects. Zero means
	// DefaultKeepaliveTimeout.
	KeepaliveTimeout time.Duration
	// Backoff paces reconnection attempts: exponential, with jitter. Each
	// zero field takes its value from DefaultBackoff.
	Backoff backoff.Config
	// MinConnectTimeout is the least time one connection attempt is given.
	// Zero means DefaultMinConnectTimeout.
	MinConnectTimeout time.Duration
	// Retry retries idempotent calls that fail with UNAVAILABLE. Each zero
	// field takes its value from DefaultRetry.
	Retry RetryPolicy
	// MaxSendBytes is the largest message the client sends, MaxRecvBytes
	// the largest it accepts. Zero means MaxMessageBytes; a call over a
	// limit fails with codes.ResourceExhausted (see IsMessageTooLarge).
	MaxSendBytes, MaxRecvBytes int
}

// ServerOptions returns every option of an eosweep gRPC server: transport
// credentials (TLS or plaintext), keepalive and its enforcement policy, the
// cap on concurrent streams per connection (MaxStreamsPerConn) and, with a
// token, unary and stream interceptors that refuse any RPC (health
// checks excepted) without it. Interceptors the caller puts before these
// options (metrics) run first, so refused calls reach them too.
func ServerOptions(cfg ServerConfig) ([]grpc.ServerOption, error) {
	tc, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	params, policy := cfg.keepalive()
	opts := []grpc.ServerOption{grpc.Creds(transportCredentials(tc)), grpc.KeepaliveParams(params), grpc.KeepaliveEnforcementPolicy(policy),
		grpc.MaxConcurrentStreams(MaxStreamsPerConn)}
	if cfg.Token != "" {
		if tc == nil {
			slog.Warn("bearer token configured without TLS: it crosses the network in plaintext")
		}
		auth := newTokenAuth(cfg.Token)
		opts = append(opts,
			grpc.ChainUnaryInterceptor(auth.unary),
			grpc.ChainStreamInterceptor(auth.stream))
	}
	return opts, nil
}

// DialOptions returns every option of an eosweep gRPC client: TLS or
// plaintext transport credentials (a TLS handshake that can never succeed is
// marked permanent, see IsPermanent), keepalive, the reconnect backoff, the
// retry service config, the message limits and, with a token, per-RPC
// credentials.
func DialOptions(cfg ClientConfig) ([]grpc.DialOption, error) {
	tc, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" && tc == nil && !cfg.AllowInsecureToken {
		return nil, ErrInsecureToken
	}
	serviceConfig, err := cfg.Retry.serviceConfig()
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(clientCredentials(tc)),
		grpc.WithKeepaliveParams(cfg.keepalive()),
		grpc.WithConnectParams(cfg.connectParams()),
		grpc.WithDefaultServiceConfig(serviceConfig),
		cfg.callOptions(),
	}
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: cfg.Token, insecure: tc == nil}))
	}
	return opts, nil
}

// transportCredentials returns TLS credentials with tc, or plaintext ones for nil.
func transportCredentials(tc *tls.Config) credentials.TransportCredentials {
	if tc == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(tc)
}
