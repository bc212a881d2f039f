package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"
)

// TestDamagedStoreRefused is issue 9 item 7 at the process level: a store
// written by a real sweep, truncated to 25% or 75% (or 1%), made the
// coordinator start and report SERVING, then panic ("Page expected to be…")
// or died of SIGBUS at the first read. Now the coordinator refuses it at once,
// exiting 1 with an error naming the file and `eosweep doctor`, and doctor
// reports the damage (exit 1) where it finds a healthy copy healthy.
func TestDamagedStoreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.yaml")
	yaml := "name: damage\nmodel: single\ngrid:\n  eta: {logspace: [0.5, 8, 24]}\n  seed: {range: [0, 8]}\nparams: {steps: 400, sharpness_every: 1}\n"
	if err := os.WriteFile(spec, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	healthy := filepath.Join(dir, "healthy.db")
	eosweep(t, "run", spec, "--db", healthy, "--workers", "2", "--quiet")
	data, err := os.ReadFile(healthy)
	if err != nil {
		t.Fatal(err)
	}

	out, _, err := execute(context.Background(), "doctor", "--db", healthy)
	if err != nil || !strings.Contains(out, "records: 1 sweeps, 192 trials, 192 results: ok") || !strings.HasSuffix(out, "healthy\n") {
		t.Fatalf("doctor of a healthy store: %v\n%s", err, out)
	}
	t.Logf("doctor --db healthy.db:\n%s", out)
	// bbolt grows its file ahead of the pages in use; cut into those.
	var size, pages, pageSize int
	if _, err := fmt.Sscanf(strings.TrimPrefix(out, healthy), ": %d bytes, %d pages of %d bytes", &size, &pages, &pageSize); err != nil {
		t.Fatalf("doctor's first line: %v\n%s", err, out)
	}

	for _, pct := range []int{1, 25, 75} {
		path := filepath.Join(dir, fmt.Sprintf("damaged-%d.db", pct))
		if err := os.WriteFile(path, data[:pages*pageSize*pct/100], 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(proctest.BuildOnce(t), "coordinator", "--db", path, "--listen", "127.0.0.1:0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%d%%: the coordinator kept running on a damaged store\n%s", pct, stderr.String())
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("%d%%: coordinator exited with %v, want exit status 1\n%s", pct, err, stderr.String())
		}
		msg := stderr.String()
		if !strings.Contains(msg, "store file is damaged") || !strings.Contains(msg, "eosweep doctor --db "+path) {
			t.Errorf("%d%%: coordinator said:\n%s", pct, msg)
		}

		out, _, err := execute(context.Background(), "doctor", "--db", path)
		if !errors.Is(err, errDamaged) || !strings.Contains(out, "structure:") || !strings.Contains(out, "damaged: restore") {
			t.Errorf("%d%%: doctor: %v\n%s", pct, err, out)
		}
		if pct == 25 {
			t.Logf("coordinator --db damaged-25.db:\n%sdoctor --db damaged-25.db:\n%s", msg, out)
		}
	}
}
