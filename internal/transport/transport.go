package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"google.golang.org/grpc"
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

// ServerConfig secures a gRPC server. The zero value serves plaintext without
// authentication.
type ServerConfig struct {
	CertFile     string // PEM certificate chain; with KeyFile, turns TLS on
	KeyFile      string // PEM private key of CertFile
	ClientCAFile string // PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS)
	Token        Secret // when set, every RPC but health checks must carry it as a bearer token
}

// ClientConfig secures a gRPC client. The zero value dials plaintext without a token.
type ClientConfig struct {
	TLS                bool   // use TLS; implied by CAFile or CertFile
	CAFile             string // PEM CA bundle that signed the server's certificate; empty = system roots
	CertFile           string // PEM client certificate for mutual TLS
	KeyFile            string // PEM private key of CertFile
	ServerName         string // name expected in the server's certificate; empty = the dialled host
	Token              Secret // bearer token sent with every RPC
	AllowInsecureToken bool   // send the token even over plaintext (loopback tests, private networks)
}

// ServerOptions returns the gRPC server options that enforce cfg: transport
// credentials for TLS and, with a token, unary and stream interceptors that
// refuse any RPC (health checks excepted) without it.
func ServerOptions(cfg ServerConfig) ([]grpc.ServerOption, error) {
	var opts []grpc.ServerOption
	tc, err := serverTLS(cfg)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
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

// DialOptions returns the gRPC dial options that implement cfg: TLS or
// plaintext transport credentials and, with a token, per-RPC credentials.
func DialOptions(cfg ClientConfig) ([]grpc.DialOption, error) {
	tc, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	var opts []grpc.DialOption
	if tc != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if cfg.Token != "" {
		if tc == nil && !cfg.AllowInsecureToken {
			return nil, ErrInsecureToken
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: cfg.Token, insecure: tc == nil}))
	}
	return opts, nil
}

// serverTLS returns the server's TLS config, or nil for plaintext.
func serverTLS(cfg ServerConfig) (*tls.Config, error) {
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, fmt.Errorf("server TLS: %w", ErrHalfKeyPair)
	}
	if cfg.CertFile == "" {
		if cfg.ClientCAFile != "" {
			return nil, ErrClientCAWithoutTLS
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("server TLS key pair: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.ClientCAFile != "" {
		pool, err := loadPool(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// clientTLS returns the client's TLS config, or nil for plaintext.
func clientTLS(cfg ClientConfig) (*tls.Config, error) {
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, fmt.Errorf("client TLS: %w", ErrHalfKeyPair)
	}
	if !cfg.TLS && cfg.CAFile == "" && cfg.CertFile == "" {
		return nil, nil
	}
	tc := &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := loadPool(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("server CA: %w", err)
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client TLS key pair: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// loadPool reads a PEM bundle into a certificate pool.
func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: %w", file, ErrNoCerts)
	}
	return pool, nil
}
