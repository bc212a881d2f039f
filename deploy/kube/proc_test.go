package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is one process the test started; it is stopped by its PID.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// start runs a long-lived program with its output in logDir/NAME.log and
// registers its stop (SIGTERM, SIGKILL after grace) as a cleanup.
func start(t *testing.T, logDir, name string, env []string, grace time.Duration, prog string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	// Its own process group keeps a Ctrl-C of the test from reaching it
	// before the test's own teardown does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t, grace) })
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process (by PID) and SIGKILL after grace.
func (p *proc) stop(t *testing.T, grace time.Duration) {
	t.Helper()
	if p.exited() {
		return
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		t.Logf("%s (pid %d) ignored SIGTERM for %v: SIGKILL", p.name, p.cmd.Process.Pid, grace)
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// tailLog returns the end of the process's log.
func (p *proc) tailLog(n int) string {
	b, _ := os.ReadFile(p.log)
	return tail(string(b), n)
}

// waitFor polls cond until it holds, failing the test after limit, when
// ctx ends or when one of the watched processes dies meanwhile.
func waitFor(ctx context.Context, t *testing.T, what string, limit time.Duration, watch []*proc, cond func() (bool, error)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	var last error
	for {
		ok, err := cond()
		if ok {
			return time.Since(start)
		}
		if err != nil {
			last = err
		}
		for _, p := range watch {
			if p.exited() {
				t.Fatalf("waiting for %s: %s exited (%v):\n%s", what, p.name, p.err, p.tailLog(30))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error: %v)", limit, what, last)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, context.Cause(ctx))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// freePort returns a TCP port on ip that was free a moment ago.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	lis, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().(*net.TCPAddr).Port
}

// abortContext ends on SIGINT or SIGTERM, or 3 minutes before the test's
// deadline: waits and commands given it stop early enough for the teardown
// (which does not use it) to run, where go test's own timeout would kill the
// process without running any cleanup.
func abortContext(t *testing.T) context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop)
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, d.Add(-3*time.Minute), errors.New("the test's -timeout is near: stopping to tear down"))
		t.Cleanup(cancel)
	}
	return ctx
}

// run runs a short command, returning its combined output.
func run(ctx context.Context, env []string, dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(string(out), 30))
	}
	return string(out), nil
}

// killByCmdline SIGKILLs every process whose command line contains marker
// (the runtime's shims, which outlive the containerd that started them), by
// PID, and returns how many it found.
func killByCmdline(marker string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), marker) {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil || !errors.Is(err, syscall.ESRCH) {
			n++
		}
	}
	return n
}
