package python_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/transport/transporttest"
)

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

// pythonInstall says how to get what the tests import.
const pythonInstall = "apt-get install python3-grpcio python3-protobuf python3-pandas"

// python returns an interpreter that imports grpc, google.protobuf and
// pandas: $EOSWEEP_PYTHON, Debian's /usr/bin/python3, or python3 on PATH.
func python(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPED: -short leaves out the Python client's tests")
	}
	var tried []string
	for _, p := range []string{os.Getenv("EOSWEEP_PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		out, err := exec.Command(p, "-c", "import grpc, google.protobuf, pandas").CombinedOutput()
		if err == nil {
			return p
		}
		tried = append(tried, p+": "+strings.TrimSpace(lastLine(string(out))))
	}
	t.Skipf("SKIPPED: no python3 imports grpc, google.protobuf and pandas (%s; tried %s)", pythonInstall, strings.Join(tried, "; "))
	return ""
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// root is the repository's directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// proc is an eosweep process stopped when the test ends.
type proc struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	log bytes.Buffer
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func start(t *testing.T, args ...string) (*proc, *bufio.Reader) {
	t.Helper()
	p := &proc{cmd: exec.Command(proctest.BuildOnce(t), args...)}
	p.cmd.Stderr = p
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-done
		if t.Failed() {
			p.mu.Lock()
			t.Logf("stderr of eosweep %v:\n%s", args, p.log.String())
			p.mu.Unlock()
		}
	})
	return p, bufio.NewReader(out)
}

// coordinator starts a coordinator on a free loopback port and returns its address.
func coordinator(t *testing.T, extra ...string) string {
	t.Helper()
	_, out := start(t, append([]string{"coordinator", "--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "c.db")}, extra...)...)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("coordinator: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("coordinator printed %q", line)
	}
	return addr
}

// The Python client's unittest suite passes against a plaintext coordinator
// with a worker (submit, watch, trials against trials.csv, trajectories,
// boundary against `eosweep boundary --format csv`, refusals) and a TLS
// coordinator with a token.
func TestPythonClient(t *testing.T) {
	t.Parallel()
	py := python(t)
	addr := coordinator(t)
	start(t, "worker", "--coordinator", addr, "--parallel", "2", "--lease-wait", "500ms")
	pki := transporttest.NewPKI(t)
	const token = "tok-python-client-test"
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsAddr := coordinator(t, "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey, "--token-file", tokFile)

	cmd := exec.Command(py, "-m", "unittest", "discover", "-v", "-s", "clients/python/tests")
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "PYTHONPATH=clients/python", "PYTHONDONTWRITEBYTECODE=1",
		"EOSWEEP_COORDINATOR="+addr, "EOSWEEP_BIN="+proctest.BuildOnce(t),
		"EOSWEEP_TLS_COORDINATOR="+tlsAddr, "EOSWEEP_TLS_CA="+pki.CAFile, "EOSWEEP_TEST_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	t.Logf("python -m unittest:\n%s", out)
	if err != nil {
		t.Fatalf("the Python client's tests failed: %v", err)
	}
	if bytes.Contains(out, []byte("skipped")) || !regexp.MustCompile(`(?m)^OK$`).Match(out) {
		t.Fatal("the Python client's tests skipped something or did not end OK")
	}
}

// readmeRecipe is the README's Python client recipe: the ```python block
// that imports eosweep (another block reads a report's CSVs with pandas).
var readmeRecipe = regexp.MustCompile("(?s)```python\n(import os, eosweep\n.*?)```")

// The README's five-line Python recipe runs as written (from the
// repository's root, PYTHONPATH=clients/python) against a coordinator named
// by EOSWEEP_COORDINATOR, and prints the boundary of examples/quick.yaml.
func TestReadmePythonRecipe(t *testing.T) {
	t.Parallel()
	py := python(t)
	readme, err := os.ReadFile(filepath.Join(root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := readmeRecipe.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```python block")
	}
	recipe := string(m[1])
	if n := strings.Count(strings.TrimSpace(recipe), "\n") + 1; n != 5 {
		t.Errorf("the README's Python recipe has %d lines, want 5", n)
	}
	addr := coordinator(t)
	start(t, "worker", "--coordinator", addr, "--lease-wait", "500ms")
	cmd := exec.Command(py, "-c", recipe)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "PYTHONPATH=clients/python", "PYTHONDONTWRITEBYTECODE=1", "EOSWEEP_COORDINATOR="+addr)
	begin := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("README recipe (%.1f s):\n%s", time.Since(begin).Seconds(), out)
	if err != nil {
		t.Fatalf("the README's Python recipe failed: %v", err)
	}
	for _, want := range []string{"36/36 done", "eta_star", "onset_form", "final_bias"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the recipe's output lacks %q", want)
		}
	}
}
