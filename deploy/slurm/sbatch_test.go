// Package slurm holds the Slurm batch script that starts eosweep workers; its
// test runs the script with a stand-in binary, as Slurm would.
package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stub writes a stand-in eosweep that prints its environment and arguments.
func stub(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "eosweep")
	script := "#!/bin/sh\necho \"GOMAXPROCS=$GOMAXPROCS\"\nfor a in \"$@\"; do echo \"ARG=$a\"; done\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// host is the short host name the script puts in the worker id.
func host(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("hostname", "-s").Output()
	if err != nil {
		t.Fatalf("hostname: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func runScript(t *testing.T, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "eosweep-workers.sbatch")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestWorkerArguments(t *testing.T) {
	bin := stub(t)
	tests := []struct {
		name     string
		env      []string
		wantArgs []string
		wantEnv  []string
	}{
		{
			name:     "plain",
			env:      []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "SLURM_CPUS_PER_TASK=4", "SLURM_ARRAY_JOB_ID=77", "SLURM_ARRAY_TASK_ID=3"},
			wantArgs: []string{"worker", "--coordinator", "coord:7070", "--id", "slurm-77-3@" + host(t), "--parallel", "4"},
			wantEnv:  []string{"GOMAXPROCS=4"},
		},
		{
			name: "tls and token",
			env: []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "EOSWEEP_TLS_CA=/home/u/ca.crt",
				"EOSWEEP_TOKEN_FILE=/home/u/token", "EOSWEEP_METRICS_LISTEN=:9100"},
			wantArgs: []string{"worker", "--coordinator", "coord:7070", "--id", "slurm-0-0@" + host(t), "--parallel", "1",
				"--tls-ca", "/home/u/ca.crt", "--token-file", "/home/u/token", "--metrics-listen", ":9100"},
			wantEnv: []string{"GOMAXPROCS=1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runScript(t, tt.env...)
			if err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			var args []string
			for line := range strings.Lines(out) {
				if a, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "ARG="); ok {
					args = append(args, a)
				}
			}
			if !slices.Equal(args, tt.wantArgs) {
				t.Errorf("args = %q, want %q", args, tt.wantArgs)
			}
			for _, e := range tt.wantEnv {
				if !strings.Contains(out, e) {
					t.Errorf("output lacks %q:\n%s", e, out)
				}
			}
		})
	}
}

func TestRequiresCoordinator(t *testing.T) {
	out, err := runScript(t, "EOSWEEP_BIN="+stub(t))
	if err == nil {
		t.Fatalf("script ran without EOSWEEP_COORDINATOR:\n%s", out)
	}
	if !strings.Contains(out, "EOSWEEP_COORDINATOR") || strings.Contains(out, "ARG=") {
		t.Errorf("want a message naming EOSWEEP_COORDINATOR and no worker started, got:\n%s", out)
	}
}

// The #SBATCH header asks for a job array and a drain signal before the time limit.
func TestDirectives(t *testing.T) {
	b, err := os.ReadFile("eosweep-workers.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	var directives []string
	for line := range strings.Lines(string(b)) {
		if d, ok := strings.CutPrefix(line, "#SBATCH "); ok {
			directives = append(directives, strings.TrimSpace(d))
		}
	}
	for _, want := range []string{"--array=", "--signal=B:TERM@", "--output=", "--time="} {
		if !slices.ContainsFunc(directives, func(d string) bool { return strings.HasPrefix(d, want) }) {
			t.Errorf("no #SBATCH %s directive in %q", want, directives)
		}
	}
}
