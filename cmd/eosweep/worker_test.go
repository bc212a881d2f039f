package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/internal/transport"
)

// TestWorkerRefusesMisconfiguration: `eosweep worker` refuses an address
// without a port before it starts, naming the flag, and exits with an error
// (non-zero) when the coordinator refuses its token, instead of retrying
// forever and exiting 0.
func TestWorkerRefusesMisconfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts, err := transport.ServerOptions(transport.ServerConfig{Token: "right"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := coordinator.Open(coordinator.Config{DBPath: filepath.Join(dir, "c.db"), NoSync: true, ServerOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(time.Second) })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Serve(lis) }()
	wrong := filepath.Join(dir, "token")
	if err := os.WriteFile(wrong, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no port", []string{"--coordinator", "127.0.0.1"}, `flag --coordinator: "127.0.0.1" has no port: want HOST:PORT, e.g. 127.0.0.1:7870`},
		{"host name without port", []string{"--coordinator", "login1.cluster"}, `flag --coordinator: "login1.cluster" has no port`},
		{"bad port", []string{"--coordinator", "127.0.0.1:99999"}, `flag --coordinator: "127.0.0.1:99999": port "99999" is not a number from 1 to 65535`},
		{"empty", []string{"--coordinator", ""}, "flag --coordinator: required"},
		{"wrong token", []string{"--coordinator", lis.Addr().String(), "--token-file", wrong, "--insecure-token"},
			"coordinator " + lis.Addr().String() + " refused this worker: Unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, _, err := execute(ctx, append([]string{"worker", "--lease-wait", "100ms"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("worker %v: %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
			if ctx.Err() != nil {
				t.Fatal("the worker ran until the test's deadline")
			}
		})
	}
}
