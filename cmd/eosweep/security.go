package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/internal/transport"
)

// Flags of the transport security (TLS and the shared bearer token). The
// coordinator gets the server set, every command that dials a coordinator the
// client set; commands without them (run, trial) talk in-process and use none.
// Without any of them set, everything is plaintext and unauthenticated, as before.
const (
	flagTLSCert       = "tls-cert"
	flagTLSKey        = "tls-key"
	flagTLSClientCA   = "tls-client-ca"
	flagTLSCA         = "tls-ca"
	flagTLSServerName = "tls-server-name"
	flagTokenFile     = "token-file"
	flagInsecureToken = "insecure-token"
)

// addServerSecurityFlags registers the coordinator's TLS and token flags.
func addServerSecurityFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String(flagTLSCert, "", "PEM certificate to serve TLS with (with --tls-key)")
	f.String(flagTLSKey, "", "PEM private key of --tls-cert")
	f.String(flagTLSClientCA, "", "require client certificates signed by this PEM CA (mutual TLS)")
	f.String(flagTokenFile, "", "require this file's bearer token on every RPC (default: $"+transport.TokenEnv+"; health checks stay open)")
}

// addClientSecurityFlags registers a client's TLS and token flags.
func addClientSecurityFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String(flagTLSCA, "", "dial with TLS, trusting this PEM CA for the coordinator's certificate")
	f.String(flagTLSServerName, "", "name expected in the coordinator's certificate (default: the dialled host)")
	f.String(flagTLSCert, "", "PEM client certificate for mutual TLS (with --tls-key)")
	f.String(flagTLSKey, "", "PEM private key of --tls-cert")
	f.String(flagTokenFile, "", "send this file's bearer token with every RPC (default: $"+transport.TokenEnv+")")
	f.Bool(flagInsecureToken, false, "allow sending the token without TLS (loopback or a private network only)")
}

// flagString returns a string flag's value, or "" when cmd lacks the flag.
func flagString(fs *pflag.FlagSet, name string) string {
	v, _ := fs.GetString(name)
	return v
}

// securityServerOptions returns the coordinator's TLS and token options, or
// none for a command without the server flags. Appended after the plaintext
// default, its credentials replace it.
func securityServerOptions(cmd *cobra.Command) ([]grpc.ServerOption, error) {
	f := cmd.Flags()
	if f.Lookup(flagTLSClientCA) == nil {
		return nil, nil
	}
	tok, err := transport.LoadToken(flagString(f, flagTokenFile))
	if err != nil {
		return nil, err
	}
	cfg := transport.ServerConfig{
		CertFile:     flagString(f, flagTLSCert),
		KeyFile:      flagString(f, flagTLSKey),
		ClientCAFile: flagString(f, flagTLSClientCA),
		Token:        tok,
	}
	opts, err := transport.ServerOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("transport security: %w", err)
	}
	return opts, nil
}

// securityDialOptions returns a client's TLS (or plaintext) credentials and
// token options, or none for a command without the client flags. Appended
// after the plaintext default, its credentials replace it.
func securityDialOptions(cmd *cobra.Command) ([]grpc.DialOption, error) {
	f := cmd.Flags()
	if f.Lookup(flagTLSCA) == nil {
		return nil, nil
	}
	tok, err := transport.LoadToken(flagString(f, flagTokenFile))
	if err != nil {
		return nil, err
	}
	insecureTok, _ := f.GetBool(flagInsecureToken)
	cfg := transport.ClientConfig{
		CAFile:             flagString(f, flagTLSCA),
		ServerName:         flagString(f, flagTLSServerName),
		CertFile:           flagString(f, flagTLSCert),
		KeyFile:            flagString(f, flagTLSKey),
		Token:              tok,
		AllowInsecureToken: insecureTok,
	}
	opts, err := transport.DialOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("transport security: %w", err)
	}
	return opts, nil
}
