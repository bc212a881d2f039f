package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/internal/transport"
)

// Flags of the transport security (TLS and the shared bearer token). The
// coordinator binds the server set, every command that dials a coordinator the
// client set; commands without them (run, trial) talk in-process and use none.
// Without any of them set, everything is plaintext and unauthenticated.
const (
	flagTLSCert       = "tls-cert"
	flagTLSKey        = "tls-key"
	flagTLSClientCA   = "tls-client-ca"
	flagTLSCA         = "tls-ca"
	flagTLSServerName = "tls-server-name"
	flagTokenFile     = "token-file"
	flagInsecureToken = "insecure-token"
)

// serverFlags are the coordinator's transport flags, bound into a
// transport.ServerConfig; the token is read from its file when the command runs.
type serverFlags struct {
	cfg       transport.ServerConfig
	tokenFile string
}

func (s *serverFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&s.cfg.CertFile, flagTLSCert, "", "PEM certificate to serve TLS with (with --tls-key)")
	f.StringVar(&s.cfg.KeyFile, flagTLSKey, "", "PEM private key of --tls-cert")
	f.StringVar(&s.cfg.ClientCAFile, flagTLSClientCA, "", "require client certificates signed by this PEM CA (mutual TLS)")
	f.StringVar(&s.tokenFile, flagTokenFile, "", "require this file's bearer token on every RPC (default: $"+transport.TokenEnv+"; health checks stay open)")
}

// secured reports whether the server flags ask for a token or TLS (the
// token file, or $EOSWEEP_TOKEN, or a certificate).
func (s *serverFlags) secured() bool {
	return s.tokenFile != "" || os.Getenv(transport.TokenEnv) != "" || s.cfg.CertFile != ""
}

// config returns the bound config with its token loaded (valid only
// without an error).
func (s *serverFlags) config() (transport.ServerConfig, error) {
	cfg := s.cfg
	var err error
	cfg.Token, err = transport.LoadToken(s.tokenFile)
	return cfg, err
}

// options returns the coordinator's gRPC server options (transport's; the
// coordinator puts its metrics interceptors before them).
func (s *serverFlags) options() ([]grpc.ServerOption, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	opts, err := transport.ServerOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("transport security: %w", err)
	}
	return opts, nil
}

// clientFlags are a client's transport flags, bound into a
// transport.ClientConfig; the token is read from its file when the command runs.
type clientFlags struct {
	cfg       transport.ClientConfig
	tokenFile string
}

func (c *clientFlags) bind(f *pflag.FlagSet) {
	f.StringVar(&c.cfg.CAFile, flagTLSCA, "", "dial with TLS, trusting this PEM CA for the coordinator's certificate")
	f.StringVar(&c.cfg.ServerName, flagTLSServerName, "", "name expected in the coordinator's certificate (default: the dialled host)")
	f.StringVar(&c.cfg.CertFile, flagTLSCert, "", "PEM client certificate for mutual TLS (with --tls-key)")
	f.StringVar(&c.cfg.KeyFile, flagTLSKey, "", "PEM private key of --tls-cert")
	f.StringVar(&c.tokenFile, flagTokenFile, "", "send this file's bearer token with every RPC (default: $"+transport.TokenEnv+")")
	f.BoolVar(&c.cfg.AllowInsecureToken, flagInsecureToken, false, "allow sending the token without TLS (loopback or a private network only)")
}

// config returns the bound config with its token loaded (valid only
// without an error).
func (c *clientFlags) config() (transport.ClientConfig, error) {
	cfg := c.cfg
	var err error
	cfg.Token, err = transport.LoadToken(c.tokenFile)
	return cfg, err
}

// dial connects to the coordinator at addr with transport's dial options and
// then extra (metrics interceptors).
func (c *clientFlags) dial(addr string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	opts, err := transport.DialOptions(cfg)
	if errors.Is(err, transport.ErrInsecureToken) {
		return nil, fmt.Errorf("transport security: the bearer token (--%s or $%s) needs TLS, or it goes over plaintext: give --%s FILE "+
			"to dial with TLS, or --%s to send it in plaintext anyway (loopback or a private network only)", flagTokenFile, transport.TokenEnv, flagTLSCA, flagInsecureToken)
	}
	if err != nil {
		return nil, fmt.Errorf("transport security: %w", err)
	}
	conn, err := grpc.NewClient(addr, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}

// coordinatorEnv names the variable that, when set, replaces the default of
// --coordinator for every command that dials one.
const coordinatorEnv = "EOSWEEP_COORDINATOR"

// defaultCoordinator is --coordinator's default: a coordinator on this machine.
const defaultCoordinator = "127.0.0.1:7870"

// dialFlags are --coordinator and the client transport flags of a command
// that dials a coordinator.
type dialFlags struct {
	addr      string
	flag      *pflag.Flag
	transport clientFlags
}

// bind registers --coordinator with its default (replaced by
// $EOSWEEP_COORDINATOR when that is set) and usage, and the transport flags.
func (d *dialFlags) bind(f *pflag.FlagSet, def, usage string) {
	f.StringVar(&d.addr, "coordinator", def, usage+"; $"+coordinatorEnv+" replaces the default")
	d.flag = f.Lookup("coordinator")
	d.transport.bind(f)
}

// given reports whether --coordinator was on the command line.
func (d *dialFlags) given() bool { return d.flag != nil && d.flag.Changed }

// address is the coordinator to dial: --coordinator when given, else
// $EOSWEEP_COORDINATOR when set, else the flag's default.
func (d *dialFlags) address() string {
	if d.given() {
		return d.addr
	}
	if env := os.Getenv(coordinatorEnv); env != "" {
		return env
	}
	return d.addr // the default
}

// required refuses an empty coordinator address.
func (d *dialFlags) required() error {
	if d.address() == "" {
		return errors.New("flag --coordinator: required")
	}
	return nil
}

// dial connects to the coordinator, with extra options after transport's.
func (d *dialFlags) dial(extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	if err := d.required(); err != nil {
		return nil, err
	}
	return d.transport.dial(d.address(), extra...)
}
