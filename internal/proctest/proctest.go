// Package proctest serves tests that run eosweep as a separate process: it
// builds the binary once per test binary and finds free loopback ports. (To
// wait for such a process, see testwait.Poll.)
//
// A package that calls BuildOnce runs its tests through Run:
//
//	func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }
package proctest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	running  bool // set by Run
	once     sync.Once
	binDir   string
	binPath  string
	buildErr error
)

// Run runs the tests and removes the binary BuildOnce built; TestMain passes
// its result to os.Exit.
func Run(m *testing.M) int {
	running = true
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	return code
}

// BuildOnce returns the path of the eosweep binary (./cmd/eosweep of the
// github.com/eosweep/eosweep module), building it the first time a test of
// this test binary asks. A test that needs it is a process-level test: with
// -short it is skipped.
func BuildOnce(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED: builds and runs the eosweep binary; not with -short")
	}
	if !running {
		t.Fatal("proctest.BuildOnce: run the package's tests through proctest.Run (TestMain), which removes the binary")
	}
	once.Do(func() { binPath, buildErr = build() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func build() (string, error) {
	// The module's directory, from the main module or from one (deploy/)
	// that requires it with a replace directive.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/eosweep/eosweep").Output()
	if err != nil {
		return "", fmt.Errorf("locate module github.com/eosweep/eosweep: %w", err)
	}
	root := strings.TrimSpace(string(out))
	if binDir, err = os.MkdirTemp("", "eosweep-bin"); err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, "eosweep")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/eosweep")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/eosweep in %s: %v\n%s", root, err, out)
	}
	return bin, nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns "127.0.0.1:PORT" for a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}

// Tool returns the path of an outside program for a test of it: name on PATH,
// else in $(go env GOPATH)/bin (where `go install` puts it). Without it the
// test is skipped with "SKIPPED: name not installed (install)", install being
// how to get it; with -short it is skipped too, as a process-level test.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("SKIPPED: -short leaves out the test of %s", name)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	t.Skipf("SKIPPED: %s not installed (%s)", name, install)
	return ""
}
