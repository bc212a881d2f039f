package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/scheduler"
)

// Messages a newcomer can act on: each names the flag or field and what to
// give instead. Nothing here starts a process or dials a live coordinator.
func TestNewcomerMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "name: ok\nmodel: single\ngrid: {eta: [0.5, 1, 2, 4], seed: [0, 1]}\nparams: {steps: 30}\n"
	db := filepath.Join(dir, "done.db")
	run(t, "run", file("good.yaml", good), "--db", db, "--quiet", "--workers", "1")
	token := file("token", "secret\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"run --workers 0", []string{"run", file("w0.yaml", good), "--workers", "0", "--db", filepath.Join(dir, "w0.db")}, []string{"flag --workers 0: want at least 1"}},
		{"run --workers -1", []string{"run", file("w1.yaml", good), "--workers", "-1", "--db", filepath.Join(dir, "w1.db")}, []string{"flag --workers -1"}},
		{"worker --parallel 0", []string{"worker", "--parallel", "0", "--coordinator", "127.0.0.1:1"}, []string{"flag --parallel 0: want at least 1"}},
		{"worker --parallel -2", []string{"worker", "--parallel", "-2", "--coordinator", "127.0.0.1:1"}, []string{"flag --parallel -2: want at least 1"}},
		{"empty spec", []string{"run", file("empty.yaml", ""), "--db", filepath.Join(dir, "e.db")}, []string{"empty.yaml", "spec is empty"}},
		{"misspelt key", []string{"run", file("typo.yaml", good+"boundry: {bias_eps: 0.1}\n"), "--db", filepath.Join(dir, "t.db")}, []string{"boundry: unknown key (did you mean boundary?)"}},
		{"no name (run)", []string{"run", file("anon.yaml", "model: single\ngrid: {eta: [1]}\n"), "--db", filepath.Join(dir, "a.db")}, []string{"name: required"}},
		{"no name (submit)", []string{"submit", file("anon2.yaml", "model: single\ngrid: {eta: [1]}\n"), "--coordinator", "127.0.0.1:1"}, []string{"name: required"}},
		{"reference_eta off the grid", []string{"submit", file("ref.yaml", good+"boundary: {reference_eta: 3}\n"), "--coordinator", "127.0.0.1:1"}, []string{"boundary.reference_eta: 3 is not one of the grid's η values (0.5, 1, 2, 4)"}},
		{"unknown parameter", []string{"run", file("param.yaml", "name: p\nmodel: single\ngrid: {eta: [1], width: [2]}\n"), "--db", filepath.Join(dir, "p.db")}, []string{"grid.width: unknown parameter for model single (it takes"}},
		{"report --axis", []string{"report", "ok", "--db", db, "--out", filepath.Join(dir, "r1"), "--axis", "nope"}, []string{"flag --axis", `axis "nope"`, "it has none"}},
		{"report --trajectory eta=5", []string{"report", "ok", "--db", db, "--out", filepath.Join(dir, "r2"), "--trajectory", "eta=5"}, []string{"flag --trajectory", "eta=5", "eta values there: 0.5, 1, 2, 4"}},
		{"trial --seed -1", []string{"trial", "--model", "single", "--eta", "1", "--seed", "-1"}, []string{"seed must be ≥ 0"}},
		{"token without TLS", []string{"status", "--coordinator", "127.0.0.1:1", "--token-file", token}, []string{"--tls-ca", "--insecure-token", "plaintext"}},
		{"--log-level", []string{"status", "--db", db, "--log-level", "LOUD"}, []string{`flag --log-level "LOUD": want debug, info, warn or error`}},
		{"--db and --coordinator", []string{"status", "--db", db, "--coordinator", "127.0.0.1:1"}, []string{"give one, not both"}},
		{"trials --format", []string{"trials", "ok", "--db", db, "--format", "xml"}, []string{`flag --format "xml": want table, csv or json`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execute(context.Background(), tc.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// The log level is a lower-case word, upper case accepted.
func TestLogLevel(t *testing.T) {
	t.Parallel()
	for _, level := range []string{"debug", "info", "warn", "error", "WARN"} {
		if _, _, err := execute(context.Background(), "trial", "--model", "single", "--eta", "1", "--set", "steps=5", "--log-level", level); err != nil {
			t.Errorf("--log-level %s: %v", level, err)
		}
	}
}

// --version says the module version, the commit and the Go version.
func TestVersion(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := version(bi, true), "eosweep v1.2.3 commit 0123abcd (modified) of 2026-01-02T03:04:05Z, go1.26.8"; got != want {
		t.Errorf("version %q, want %q", got, want)
	}
	if got := version(&debug.BuildInfo{GoVersion: "go1.26.8"}, true); got != "eosweep (devel), go1.26.8" {
		t.Errorf("without VCS: %q", got)
	}
	out, _, err := execute(context.Background(), "--version")
	if err != nil || !strings.HasPrefix(out, "eosweep ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: %q, %v", out, err)
	}
}

// A coordinator that cannot listen says so, and only that: nothing was
// started, so no graceful stop can time out.
func TestListenFailure(t *testing.T) {
	t.Parallel()
	_, errOut, err := execute(context.Background(), "coordinator", "--listen", "256.0.0.1:1", "--db", filepath.Join(t.TempDir(), "c.db"))
	if err == nil || !strings.Contains(err.Error(), "listen 256.0.0.1:1") || strings.Contains(errOut, "timed out") {
		t.Errorf("error %v, stderr %q", err, errOut)
	}
}

// Client commands find the coordinator through $EOSWEEP_COORDINATOR when no
// --coordinator is given (so not parallel: it sets the environment).
func TestCoordinatorFromEnvironment(t *testing.T) {
	addr, cl := serveCoordinator(t, scheduler.Config{})
	sw := submitText(t, cl, threeEtas)
	t.Setenv(coordinatorEnv, addr)
	if got := run(t, "status", sw.GetId()); !strings.Contains(got, sw.GetId()) {
		t.Errorf("status via $%s: %q", coordinatorEnv, got)
	}
	t.Setenv(coordinatorEnv, "127.0.0.1:1") // the flag wins over the variable
	if got := run(t, "status", sw.GetId(), "--coordinator", addr); !strings.Contains(got, sw.GetId()) {
		t.Errorf("status --coordinator with $%s set: %q", coordinatorEnv, got)
	}
	db := filepath.Join(t.TempDir(), "none.db") // --db wins over the variable
	if _, _, err := execute(context.Background(), "status", "--db", db); err == nil || strings.Contains(err.Error(), "not both") {
		t.Errorf("status --db with $%s set: %v", coordinatorEnv, err)
	}
}
