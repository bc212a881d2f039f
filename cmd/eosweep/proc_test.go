package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// Process-level helpers: the fault tests run the real eosweep binary, built
// once per test binary (proctest.BuildOnce), as coordinator and worker
// processes on loopback.

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

// proc is a running eosweep process.
type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
}

func start(t *testing.T, env []string, args ...string) (*proc, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(proctest.BuildOnce(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &syncWriter{w: p.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", args, p.log())
		}
	})
	return p, bufio.NewReader(stdout)
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func (p *proc) log() string {
	w := p.cmd.Stderr.(*syncWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.String()
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not stop on SIGTERM", p.cmd.Args)
	}
}

// startCoordinator starts a coordinator process and returns it with its address.
func startCoordinator(t *testing.T, db, listen string, extra ...string) (*proc, string) {
	t.Helper()
	p, out := start(t, nil, append([]string{"coordinator", "--listen", listen, "--db", db}, extra...)...)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("coordinator: %v\n%s", err, p.log())
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("coordinator printed %q", line)
	}
	return p, addr
}

func startWorker(t *testing.T, addr, trialLog string, extra ...string) *proc {
	t.Helper()
	p, _ := start(t, []string{trialLogEnv + "=" + trialLog}, append([]string{"worker", "--coordinator", addr, "--lease-wait", "500ms"}, extra...)...)
	return p
}

// eosweep runs a command to completion and returns its stdout.
func eosweep(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(proctest.BuildOnce(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("eosweep %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func submitSpec(t *testing.T, addr, specPath string) submitOutput {
	t.Helper()
	var s submitOutput
	if err := json.Unmarshal([]byte(eosweep(t, "submit", specPath, "--coordinator", addr, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func sweepStatus(t *testing.T, addr, id string) statusOutput {
	t.Helper()
	var s statusOutput
	if err := json.Unmarshal([]byte(eosweep(t, "status", id, "--coordinator", addr, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func writeSpec(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// executions reads trial logs: how many times each trial ran.
func executions(t *testing.T, paths ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				out[f[1]]++
			}
		}
	}
	return out
}

// stored reads a stopped store: the sweep's trials and results.
func stored(t *testing.T, db, sweep string) ([]store.Trial, map[string]engine.Result) {
	t.Helper()
	st, err := store.Open(db, store.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trials, err := st.Trials(sweep)
	if err != nil {
		t.Fatal(err)
	}
	results, err := st.Results(sweep)
	if err != nil {
		t.Fatal(err)
	}
	return trials, results
}

// waitSweep polls a coordinator over gRPC (cheaper than spawning `eosweep
// status`, which matters while measuring) until cond holds.
func waitSweep(t *testing.T, addr, id, what string, limit time.Duration, cond func(*pb.Sweep) bool) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := pb.NewCoordinatorServiceClient(conn)
	var last *pb.Sweep
	defer func() {
		if t.Failed() {
			t.Logf("last progress of %s: %v (%v)", id, last.GetProgress(), err)
		}
	}()
	testwait.Poll(t, what, limit, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var resp *pb.GetSweepResponse
		resp, err = cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id}, grpc.WaitForReady(true))
		last = resp.GetSweep()
		return err == nil && cond(last)
	})
}

func sweepDone(s *pb.Sweep) bool { return s.GetState() == pb.SweepState_SWEEP_STATE_DONE }
