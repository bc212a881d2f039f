package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/internal/transport/transporttest"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	p := transporttest.NewPKI(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := []struct {
		name string
		cfg  ServerConfig
		want error
	}{
		{"cert without key", ServerConfig{CertFile: p.ServerCert}, ErrHalfKeyPair},
		{"key without cert", ServerConfig{KeyFile: p.ServerKey}, ErrHalfKeyPair},
		{"client CA without TLS", ServerConfig{ClientCAFile: p.CAFile}, ErrClientCAWithoutTLS},
		{"CA file without PEM", ServerConfig{CertFile: p.ServerCert, KeyFile: p.ServerKey, ClientCAFile: notPEM}, ErrNoCerts},
		{"missing cert file", ServerConfig{CertFile: p.ServerCert + ".gone", KeyFile: p.ServerKey}, fs.ErrNotExist},
	}
	for _, tt := range servers {
		if _, err := ServerOptions(tt.cfg); !errors.Is(err, tt.want) {
			t.Errorf("ServerOptions(%s) error = %v, want %v", tt.name, err, tt.want)
		}
	}
	clients := []struct {
		name string
		cfg  ClientConfig
		want error
	}{
		{"cert without key", ClientConfig{CAFile: p.CAFile, CertFile: p.ClientCert}, ErrHalfKeyPair},
		{"CA file without PEM", ClientConfig{CAFile: notPEM}, ErrNoCerts},
		{"missing CA file", ClientConfig{CAFile: p.CAFile + ".gone"}, fs.ErrNotExist},
		{"token without TLS", ClientConfig{Token: "t"}, ErrInsecureToken},
	}
	for _, tt := range clients {
		if _, err := DialOptions(tt.cfg); !errors.Is(err, tt.want) {
			t.Errorf("DialOptions(%s) error = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// LoadToken reads EOSWEEP_TOKEN, so it cannot run in parallel.
func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name    string
		file    string
		env     string
		want    Secret
		wantErr error
	}{
		{"file trimmed", write("tok", "  abc123\n"), "from-env", "abc123", nil},
		{"env when no file", "", " from-env\n", "from-env", nil},
		{"none", "", "", "", nil},
		{"empty file", write("empty", "\n\t\n"), "from-env", "", ErrEmptyToken},
		{"missing file", filepath.Join(dir, "gone"), "from-env", "", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(TokenEnv, tt.env)
			got, err := LoadToken(tt.file)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("token = %q, want %q", string(got), string(tt.want))
			}
			if err != nil && strings.Contains(err.Error(), "from-env") {
				t.Errorf("error %q leaks a token", err)
			}
		})
	}
}

// Neither fmt nor slog ever prints the token, wherever it sits.
func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	const tok = "hunter2-very-secret"
	sc := ServerConfig{Token: tok}
	cc := ClientConfig{Token: tok}
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		fmt.Fprintf(&out, verb+"\n", sc)
		fmt.Fprintf(&out, verb+"\n", cc)
		fmt.Fprintf(&out, verb+"\n", sc.Token)
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("config", "token", sc.Token, "server", sc, "client", cc)
	}
	out.Write(buf.Bytes())
	if strings.Contains(out.String(), tok) || strings.Contains(out.String(), fmt.Sprintf("%x", tok)) {
		t.Fatalf("token printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Fatalf("no redaction marker in:\n%s", out.String())
	}
}
