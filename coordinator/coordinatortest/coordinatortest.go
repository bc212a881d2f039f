// Package coordinatortest serves a coordinator in memory for tests: a real
// store on t.TempDir() (fsync off) behind the coordinator's in-process
// connection, no sockets.
package coordinatortest

import (
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/eosweep/eosweep/coordinator"
)

// Start opens a coordinator with cfg (DBPath defaults to a file in
// t.TempDir(); NoSync is set) and returns it with its in-process client
// connection. It is shut down (closing the connection) when the test ends.
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
	t.Cleanup(func() {
		if err := c.Shutdown(time.Second); err != nil {
			t.Error(err)
		}
	})
	conn, err := c.InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	return c, conn
}
