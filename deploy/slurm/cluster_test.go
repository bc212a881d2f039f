package slurm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
)

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

// repoRoot is the main module's directory, two levels up.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// readmeRecipe returns the command lines of the first indented code block of
// the README's Slurm section, comments stripped.
func readmeRecipe(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n### Slurm\n")
	if !ok {
		t.Fatal("README.md has no ### Slurm section")
	}
	var lines []string
	for line := range strings.Lines(sec) {
		code, ok := strings.CutPrefix(line, "    ")
		switch {
		case ok:
			if c, _, _ := strings.Cut(code, "#"); strings.TrimSpace(c) != "" {
				lines = append(lines, strings.TrimSpace(c))
			}
		case len(lines) > 0 && strings.TrimSpace(line) == "":
			return lines
		}
	}
	t.Fatal("no code block in the README's Slurm section")
	return nil
}

// recipeLine returns the recipe's line that starts with prefix, as arguments:
// `eosweep` is the binary, $EOSWEEP_COORDINATOR the coordinator, and paths
// into the repository (examples/, deploy/) absolute.
func recipeLine(t *testing.T, recipe []string, prefix, bin, coord string) []string {
	t.Helper()
	for _, l := range recipe {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		args := strings.Fields(l)
		for i, a := range args {
			switch {
			case i == 0 && a == "eosweep":
				args[i] = bin
			case a == "$EOSWEEP_COORDINATOR":
				args[i] = coord
			case strings.HasPrefix(a, "examples/") || strings.HasPrefix(a, "deploy/"):
				args[i] = filepath.Join(repoRoot(t), a)
			case strings.Contains(a, "$"):
				t.Fatalf("recipe line %q: cannot expand %s", l, a)
			}
		}
		return args
	}
	t.Fatalf("the README's Slurm recipe has no line starting %q: %q", prefix, recipe)
	return nil
}

// cluster is a one-node Slurm started by ci-cluster.sh.
type cluster struct {
	dir, conf string
}

// startCluster starts a cluster in a temporary directory (stopped when the
// test ends), or uses the one EOSWEEP_SLURM_CLUSTER names (started by
// .ci/run). It skips the test when the daemons cannot start.
func startCluster(t *testing.T) cluster {
	t.Helper()
	if dir := os.Getenv("EOSWEEP_SLURM_CLUSTER"); dir != "" {
		return cluster{dir: dir, conf: filepath.Join(dir, "slurm.conf")}
	}
	dir := t.TempDir()
	out, err := exec.Command("bash", "ci-cluster.sh", "start", dir).CombinedOutput()
	if err != nil {
		t.Skipf("SKIPPED: the Slurm daemons cannot start here (deploy/slurm/ci-cluster.sh: %v):\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("bash", "ci-cluster.sh", "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("ci-cluster.sh stop: %v\n%s", err, out)
		}
	})
	return cluster{dir: dir, conf: filepath.Join(dir, "slurm.conf")}
}

// slurm runs a Slurm client command against the cluster.
func (c cluster) slurm(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// queue returns the job's tasks in the queue ("ID STATE" lines).
func (c cluster) queue(t *testing.T, job string) []string {
	t.Helper()
	return strings.Fields(strings.ReplaceAll(c.slurm(t, "squeue", "-h", "-r", "-j", job, "-o", "%i:%T"), "\n", " "))
}

// coordinatorProc is the coordinator process of the test.
type coordinatorProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	addr   string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startCoordinator(t *testing.T, bin, db string) *coordinatorProc {
	t.Helper()
	p := &coordinatorProc{cmd: exec.Command(bin, "coordinator", "--listen", "127.0.0.1:0", "--db", db, "--lease-ttl", "10s"),
		stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // by PID; a no-op once it has stopped
		<-p.done
		if t.Failed() {
			t.Logf("coordinator stderr:\n%s", p.stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("coordinator printed %q (%v)\n%s", line, err, p.stderr.String())
	}
	p.addr = addr
	return p
}

func (p *coordinatorProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the coordinator did not stop on SIGTERM")
	}
}

type sweepStatus struct {
	State  string `json:"state"`
	Total  int64  `json:"total"`
	Done   int64  `json:"done"`
	Failed int64  `json:"failed"`
}

func status(t *testing.T, bin string, args ...string) sweepStatus {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"status"}, append(args, "--json")...)...).Output()
	if err != nil {
		t.Fatalf("eosweep status %v: %v", args, err)
	}
	var s sweepStatus
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("eosweep status: %v: %s", err, out)
	}
	return s
}

// TestSlurmCluster runs the README's Slurm recipe on a real one-node Slurm:
// the sweep completes with every trial stored once while one array task is
// scancel'ed mid-sweep, and every array task has left the queue within a
// minute of the sweep finishing.
func TestSlurmCluster(t *testing.T) {
	if os.Getenv("EOSWEEP_SLURM_E2E") == "" {
		t.Skip("SKIPPED: set EOSWEEP_SLURM_E2E=1 to run the README's Slurm recipe on a real one-node Slurm (deploy/slurm/ci-cluster.sh)")
	}
	bin := proctest.BuildOnce(t)
	for _, tool := range []string{"sbatch", "squeue", "scancel", "munged", "slurmctld", "slurmd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPED: %s is not installed (apt-get install slurm-wlm munge)", tool)
		}
	}
	recipe := readmeRecipe(t)
	c := startCluster(t)
	dir := t.TempDir()
	coord := startCoordinator(t, bin, filepath.Join(dir, "c.db"))

	// eosweep submit …, as the README says.
	// It prints the sweep id on stdout (and logs on stderr).
	sub := exec.Command(recipeLine(t, recipe, "eosweep submit", bin, coord.addr)[0],
		recipeLine(t, recipe, "eosweep submit", bin, coord.addr)[1:]...)
	var subErr strings.Builder
	sub.Stderr = &subErr
	out, err := sub.Output()
	sweep := strings.TrimSpace(string(out))
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(sweep) {
		t.Fatalf("submit: %v\n%s%s", err, out, subErr.String())
	}

	// sbatch …, as the README says, with the README's environment.
	sb := recipeLine(t, recipe, "sbatch", bin, coord.addr)
	trialLog := filepath.Join(dir, "trials.log")
	cmd := exec.Command(sb[0], sb[1:]...)
	cmd.Dir = dir // the tasks' output files go here
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.conf, "EOSWEEP_COORDINATOR="+coord.addr, "EOSWEEP_BIN="+bin,
		"EOSWEEP_TRIAL_LOG="+trialLog)
	sbOut, err := cmd.CombinedOutput()
	jm := regexp.MustCompile(`Submitted batch job (\d+)`).FindStringSubmatch(string(sbOut))
	if err != nil || jm == nil {
		t.Fatalf("%q: %v\n%s", sb, err, sbOut)
	}
	job := jm[1]
	t.Cleanup(func() { // nothing of the job outlives the test
		if q := c.queue(t, job); len(q) > 0 {
			c.slurm(t, "scancel", job)
			testwait.Poll(t, "the cancelled job to leave the queue", 90*time.Second, func() bool { return len(c.queue(t, job)) == 0 })
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "eosweep-worker-*.out"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", filepath.Base(l), b)
			}
		}
	})
	t.Logf("sweep %s, job array %s: %s", sweep, job, strings.TrimSpace(string(sbOut)))

	// Mid-sweep, scancel the running task: it drains, the next one carries on.
	var victim string
	testwait.Poll(t, "a third of the sweep done with a task running", 3*time.Minute, func() bool {
		if s := status(t, bin, sweep, "--coordinator", coord.addr); s.Done*3 < s.Total {
			return false
		}
		for _, q := range c.queue(t, job) {
			if id, state, _ := strings.Cut(q, ":"); state == "RUNNING" {
				victim = id
				return true
			}
		}
		return false
	})
	c.slurm(t, "scancel", victim)
	t.Logf("scancel %s at %+v", victim, status(t, bin, sweep, "--coordinator", coord.addr))

	testwait.Poll(t, "the sweep done", 5*time.Minute, func() bool { return status(t, bin, sweep, "--coordinator", coord.addr).State == "done" })
	finished := time.Now()
	testwait.Poll(t, "every array task out of the queue", 90*time.Second, func() bool { return len(c.queue(t, job)) == 0 })
	left := time.Since(finished)
	t.Logf("every array task left the queue %v after the sweep finished", left.Round(100*time.Millisecond))
	if left > time.Minute {
		t.Errorf("the array's tasks left the queue %v after the sweep finished, want within a minute", left)
	}

	coord.stop(t)
	s := status(t, bin, sweep, "--db", filepath.Join(dir, "c.db"))
	if s.State != "done" || s.Done != s.Total || s.Failed != 0 {
		t.Fatalf("stored: %+v, want every trial done", s)
	}
	ran := map[string]int{}
	b, err := os.ReadFile(trialLog)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 2 {
			ran[f[1]]++
		}
	}
	again := 0
	for _, n := range ran {
		again += n - 1
	}
	t.Logf("%d trials stored, %d ran, %d ran again (handed back by the cancelled task)", s.Done, len(ran), again)
	if int64(len(ran)) != s.Total {
		t.Errorf("%d distinct trials ran for %d stored", len(ran), s.Total)
	}
	if again > 2 { // at most the cancelled task's two slots
		t.Errorf("%d trials ran more than once", again)
	}
}
