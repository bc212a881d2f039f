// Package coordinatortest serves a coordinator in memory for tests: a real
// store on t.TempDir() (fsync off) behind a bufconn listener, no sockets.
package coordinatortest

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/eosweep/eosweep/coordinator"
)

// Start opens a coordinator with cfg (DBPath defaults to a file in
// t.TempDir(); NoSync is set), serves it on a bufconn listener and returns it
// with a client connection. Both are closed when the test ends.
func Start(t testing.TB, cfg coordinator.Config) (*coordinator.Coordinator, *grpc.ClientConn) {
	t.Helper()
	if cfg.DBPath == "" {
		cfg.DBPath = filepath.Join(t.TempDir(), "c.db")
	}
	cfg.NoSync = true
	c, err := coordinator.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	go c.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := c.Shutdown(time.Second); err != nil {
			t.Error(err)
		}
	})
	return c, conn
}
