package transport

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TokenEnv is the environment variable LoadToken reads when no file is given.
const TokenEnv = "EOSWEEP_TOKEN"

// healthPrefix is the method prefix of the gRPC health service, which stays
// open without a token so that probes work.
const healthPrefix = "/grpc.health.v1.Health/"

// ErrEmptyToken is returned by LoadToken for a token file with nothing in it.
var ErrEmptyToken = errors.New("token file is empty")

// errUnauthenticated is the one answer to a missing or wrong token. It says
// nothing about which of the two it was.
var errUnauthenticated = status.Error(codes.Unauthenticated, "missing or invalid bearer token")

// Secret is a string that never prints: fmt, slog and encoding/json show
// "[redacted]". Convert it with string(s) where the value is really needed.
type Secret string

// String returns a placeholder, never the secret.
func (Secret) String() string { return "[redacted]" }

// GoString returns a placeholder, never the secret.
func (Secret) GoString() string { return "[redacted]" }

// MarshalText keeps the secret out of JSON, YAML and slog's JSON handler.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// LogValue keeps the secret out of structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// LoadToken returns the shared bearer token: the content of file (surrounding
// whitespace trimmed) when file is not empty, else the value of EOSWEEP_TOKEN.
// An empty result with a nil error means no token is configured.
func LoadToken(file string) (Secret, error) {
	if file == "" {
		return Secret(strings.TrimSpace(os.Getenv(TokenEnv))), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s: %w", file, ErrEmptyToken)
	}
	return Secret(tok), nil
}

// tokenAuth checks the bearer token of incoming RPCs.
type tokenAuth struct {
	want [sha256.Size]byte // digest of the expected token
}

func newTokenAuth(tok Secret) tokenAuth {
	return tokenAuth{want: sha256.Sum256([]byte(tok))}
}

// check returns nil when ctx carries exactly one authorization header holding
// the expected bearer token, or when method belongs to the health service.
// Comparing fixed-size digests in constant time leaks neither content nor length.
func (a tokenAuth) check(ctx context.Context, method string) error {
	if strings.HasPrefix(method, healthPrefix) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) != 1 {
		return errUnauthenticated
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return errUnauthenticated
	}
	if !a.matches(tok) {
		return errUnauthenticated
	}
	return nil
}

// matches compares fixed-size digests in constant time.
func (a tokenAuth) matches(tok string) bool {
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], a.want[:]) == 1
}

// Matches reports whether got is the token, comparing digests in constant
// time (as the RPC check does), so that neither the token's content nor its
// length leaks through timing. An empty token matches nothing.
func (s Secret) Matches(got string) bool {
	return s != "" && newTokenAuth(s).matches(got)
}

func (a tokenAuth) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := a.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (a tokenAuth) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := a.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// bearer attaches the token to every outgoing RPC.
type bearer struct {
	token    Secret
	insecure bool // allow sending over a plaintext connection
}

var _ credentials.PerRPCCredentials = bearer{}

// GetRequestMetadata returns the authorization header.
func (b bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if !b.insecure {
		ri, _ := credentials.RequestInfoFromContext(ctx)
		if err := credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity); err != nil {
			return nil, fmt.Errorf("bearer token needs a secure connection: %w", err)
		}
	}
	return map[string]string{"authorization": "Bearer " + string(b.token)}, nil
}

// RequireTransportSecurity makes gRPC refuse a plaintext connection unless
// insecure use was explicitly allowed.
func (b bearer) RequireTransportSecurity() bool { return !b.insecure }
