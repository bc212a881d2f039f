package proctest

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a running eosweep process started by Start: its stderr is kept (Log)
// and it is killed when the test ends.
type Proc struct {
	Cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

// Start runs the eosweep binary (BuildOnce) with args, env added to the
// test's environment, and returns it with a reader of its stdout. The
// process is SIGKILLed at cleanup (also when stopped by SIGSTOP);
// when the test failed its stderr is logged.
func Start(t testing.TB, env []string, args ...string) (*Proc, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(BuildOnce(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &Proc{Cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start eosweep %v: %v", args, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("stderr of eosweep %v (tail):\n%s", args, tail(p.Log(), 4000))
		}
	})
	return p, bufio.NewReader(stdout)
}

// StartCoordinator starts `eosweep coordinator --listen LISTEN --db DB
// EXTRA...` and returns it with the address it printed ("listening on ADDR").
// Its further stdout is discarded.
func StartCoordinator(t testing.TB, db, listen string, extra ...string) (*Proc, string) {
	t.Helper()
	p, out := Start(t, nil, append([]string{"coordinator", "--listen", listen, "--db", db}, extra...)...)
	line, err := out.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		p.Kill()
		t.Fatalf("coordinator printed %q (%v)\n%s", line, err, tail(p.Log(), 4000))
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return p, addr
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Log returns what the process wrote to stderr so far.
func (p *Proc) Log() string { return p.stderr.String() }

// Signal sends sig to the process (an exited process is not an error).
func (p *Proc) Signal(sig syscall.Signal) { _ = p.Cmd.Process.Signal(sig) }

// Kill SIGKILLs the process and waits for it to exit.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill() // a stopped (SIGSTOP) process too
	<-p.done
}

// Stop sends SIGTERM and waits up to limit for the process to exit; it
// reports whether it did (the caller decides whether that is a failure).
func (p *Proc) Stop(limit time.Duration) bool {
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(limit):
		return false
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
