package slurm

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stub writes a stand-in eosweep that prints its environment and arguments
// and exits with code; with waitTerm it then waits for SIGTERM first.
func stub(t *testing.T, code int, waitTerm bool) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "eosweep")
	script := "#!/bin/sh\necho \"GOMAXPROCS=$GOMAXPROCS\"\necho \"GOMEMLIMIT=$GOMEMLIMIT\"\nfor a in \"$@\"; do echo \"ARG=$a\"; done\n"
	if waitTerm {
		script += "trap 'echo TERM; exit " + strconv.Itoa(code) + "' TERM\necho READY\nwhile :; do sleep 0.05; done\n"
	}
	script += "exit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// fakeScancel puts a scancel on PATH that logs its arguments to a file; it
// returns the PATH and the log.
func fakeScancel(t *testing.T) (path, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "scancel.log")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\n"
	if err := os.WriteFile(filepath.Join(dir, "scancel"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + ":" + os.Getenv("PATH"), log
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

func script(env ...string) *exec.Cmd {
	cmd := exec.Command("bash", "eosweep-workers.sbatch")
	cmd.Env = env
	if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"))
	}
	return cmd
}

func argsOf(out string) []string {
	var args []string
	for line := range strings.Lines(out) {
		if a, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "ARG="); ok {
			args = append(args, a)
		}
	}
	return args
}

func TestWorkerArguments(t *testing.T) {
	bin := stub(t, 0, false)
	base := func(task string, extra ...string) []string {
		return append([]string{"worker", "--coordinator", "coord:7070", "--id", "slurm-" + task + "@" + host(t)}, extra...)
	}
	tests := []struct {
		name     string
		env      []string
		wantArgs []string
		wantEnv  []string
	}{
		{
			name:     "plain",
			env:      []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "SLURM_CPUS_PER_TASK=4", "SLURM_ARRAY_JOB_ID=77", "SLURM_ARRAY_TASK_ID=3"},
			wantArgs: base("77-3", "--parallel", "4", "--grace", "20s", "--exit-when-idle", "30s"),
			wantEnv:  []string{"GOMAXPROCS=4", "GOMEMLIMIT=\n"},
		},
		{
			name: "tls, token and metrics offset by the local task id",
			env: []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "EOSWEEP_TLS_CA=/home/u/ca.crt",
				"EOSWEEP_TOKEN_FILE=/home/u/token", "EOSWEEP_METRICS_LISTEN=:9100", "SLURM_LOCALID=2"},
			wantArgs: base("0-0", "--parallel", "1", "--grace", "20s", "--exit-when-idle", "30s",
				"--tls-ca", "/home/u/ca.crt", "--token-file", "/home/u/token", "--metrics-listen", ":9102"),
			wantEnv: []string{"GOMAXPROCS=1"},
		},
		{
			name:     "metrics host and port offset",
			env:      []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "EOSWEEP_METRICS_LISTEN=10.1.2.3:9100", "SLURM_LOCALID=1"},
			wantArgs: base("0-0", "--parallel", "1", "--grace", "20s", "--exit-when-idle", "30s", "--metrics-listen", "10.1.2.3:9101"),
		},
		{
			name:     "metrics on a free port",
			env:      []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "EOSWEEP_METRICS_LISTEN=127.0.0.1:0", "SLURM_LOCALID=3"},
			wantArgs: base("0-0", "--parallel", "1", "--grace", "20s", "--exit-when-idle", "30s", "--metrics-listen", "127.0.0.1:0"),
		},
		{
			name: "grace, idle, until-done and more flags",
			env: []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "EOSWEEP_GRACE=10s", "EOSWEEP_EXIT_WHEN_IDLE=0",
				"EOSWEEP_UNTIL_DONE=abc123", "EOSWEEP_WORKER_ARGS=--insecure-token  --prefetch 8 --tls-server-name coord"},
			wantArgs: base("0-0", "--parallel", "1", "--grace", "10s", "--until-done", "abc123",
				"--insecure-token", "--prefetch", "8", "--tls-server-name", "coord"),
		},
		{
			name:     "memory limit from the allocation",
			env:      []string{"EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + bin, "SLURM_CPUS_PER_TASK=2", "SLURM_MEM_PER_CPU=256"},
			wantArgs: base("0-0", "--parallel", "2", "--grace", "20s", "--exit-when-idle", "30s"),
			wantEnv:  []string{"GOMEMLIMIT=460MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := script(tt.env...).CombinedOutput()
			if err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			if args := argsOf(string(out)); !slices.Equal(args, tt.wantArgs) {
				t.Errorf("args = %q, want %q", args, tt.wantArgs)
			}
			for _, e := range tt.wantEnv {
				if !strings.Contains(string(out), e) {
					t.Errorf("output lacks %q:\n%s", e, out)
				}
			}
		})
	}
}

// The script's exit follows the worker's; a worker that exits 0 by itself
// (no work left) has the array's pending tasks cancelled, unless told not to.
func TestExitAndPendingTasks(t *testing.T) {
	path, log := fakeScancel(t)
	tests := []struct {
		name        string
		code        int
		env         []string
		wantScancel string // "" for none
	}{
		{"no work left", 0, []string{"SLURM_ARRAY_JOB_ID=77"}, "--state=PENDING 77\n"},
		{"no work left, keep pending", 0, []string{"SLURM_ARRAY_JOB_ID=77", "EOSWEEP_CANCEL_PENDING=0"}, ""},
		{"not an array", 0, nil, ""},
		{"worker failed", 3, []string{"SLURM_ARRAY_JOB_ID=77"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(log)
			env := append([]string{"PATH=" + path, "EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN=" + stub(t, tt.code, false)}, tt.env...)
			out, err := script(env...).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("script exited %d, want the worker's %d:\n%s", code, tt.code, out)
			}
			got, _ := os.ReadFile(log)
			if string(got) != tt.wantScancel {
				t.Errorf("scancel %q, want %q", got, tt.wantScancel)
			}
		})
	}
}

// SIGTERM to the batch script (Slurm's --signal=B:TERM, scancel --batch)
// reaches the worker; the script waits for its drain, exits with its status
// and cancels nothing.
func TestTermPassedToWorker(t *testing.T) {
	path, log := fakeScancel(t)
	cmd := script("PATH="+path, "EOSWEEP_COORDINATOR=coord:7070", "EOSWEEP_BIN="+stub(t, 0, true), "SLURM_ARRAY_JOB_ID=77")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var out []string
	for lines.Scan() {
		out = append(out, lines.Text())
		if lines.Text() == "READY" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		out = append(out, lines.Text())
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("script: %v\n%s", err, out)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the script did not end after SIGTERM:\n%s", out)
	}
	if !slices.Contains(out, "TERM") {
		t.Errorf("the worker never got SIGTERM:\n%s", strings.Join(out, "\n"))
	}
	if got, _ := os.ReadFile(log); len(got) > 0 {
		t.Errorf("scancel %q after a signal", got)
	}
}

func TestRequiresCoordinator(t *testing.T) {
	out, err := script("EOSWEEP_BIN=" + stub(t, 0, false)).CombinedOutput()
	if err == nil {
		t.Fatalf("script ran without EOSWEEP_COORDINATOR:\n%s", out)
	}
	if !strings.Contains(string(out), "EOSWEEP_COORDINATOR") || strings.Contains(string(out), "ARG=") {
		t.Errorf("want a message naming EOSWEEP_COORDINATOR and no worker started, got:\n%s", out)
	}
}

// The #SBATCH header asks for a job array, a drain signal before the time
// limit and memory in line with what a worker uses; the header's pointers
// lead to files that exist.
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
	for _, want := range []string{"--array=", "--signal=B:TERM@", "--output=", "--time=", "--mem-per-cpu=256M"} {
		if !slices.ContainsFunc(directives, func(d string) bool { return strings.HasPrefix(d, want) }) {
			t.Errorf("no #SBATCH %s directive in %q", want, directives)
		}
	}
	if strings.Contains(string(b), "deploy/README") {
		t.Error("the header cites deploy/README, which does not exist (the README's Slurm section is the documentation)")
	}
}
