package scaletest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
)

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

// scaleEnv turns on the million-trial run.
const scaleEnv = "EOSWEEP_SCALE"

// TestScale runs the η × seed grid of a `single` sweep of one step through a
// coordinator (--max-trials 2000000) and two workers, and logs a table of
// what it measured. The small version (40 × 50) always runs.
func TestScale(t *testing.T) {
	etas, seeds := 40, 50
	if os.Getenv(scaleEnv) == "1" {
		etas, seeds = 1000, 1000
	} else {
		t.Logf("SKIPPED the 1,000,000-trial run: set %s=1 (this is the 2,000-trial version)", scaleEnv)
	}
	n := etas * seeds
	bin := proctest.BuildOnce(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "scale.db")
	specPath := filepath.Join(dir, "scale.yaml")
	spec := fmt.Sprintf("name: scale\nmodel: single\ngrid:\n  eta: {logspace: [0.01, 10, %d]}\n  seed: {range: [0, %d]}\nparams: {steps: 1}\n", etas, seeds)
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	var rows [][2]string
	row := func(what, value string) {
		rows = append(rows, [2]string{what, value})
		t.Logf("%s: %s", what, value)
	}
	defer func() {
		var b strings.Builder
		fmt.Fprintf(&b, "| %d trials | |\n|---|---|\n", n)
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
		}
		t.Logf("measured:\n%s", b.String())
	}()

	coord, addr := startCoordinator(t, db, "127.0.0.1:0")
	start := time.Now()
	var sub struct {
		Sweep  string `json:"sweep"`
		Trials int64  `json:"trials"`
	}
	if err := json.Unmarshal([]byte(run(t, bin, "submit", specPath, "--coordinator", addr, "--json")), &sub); err != nil {
		t.Fatal(err)
	}
	row("submit", time.Since(start).Round(time.Millisecond).String())
	if sub.Trials != int64(n) {
		t.Fatalf("submitted %d trials, want %d", sub.Trials, n)
	}
	if st := status(t, bin, addr, sub.Sweep); st.Pending != int64(n) {
		t.Fatalf("status after submit: %+v", st)
	}
	row("coordinator memory, sweep waiting", memory(t, coord.Pid()))

	// SIGTERM, restart on the same file, status again.
	start = time.Now()
	stopCoordinator(t, coord)
	coord, addr = startCoordinator(t, db, addr)
	if st := status(t, bin, addr, sub.Sweep); st.Pending != int64(n) {
		t.Fatalf("status after restart: %+v", st)
	}
	row("SIGTERM + restart until `status` answers", time.Since(start).Round(time.Millisecond).String())
	row("coordinator memory after restart", memory(t, coord.Pid()))

	start = time.Now()
	for i := range 2 {
		startWorker(t, addr, i)
	}
	var hwm string
	testwait.Poll(t, "the sweep to finish", 30*time.Minute, func() bool {
		hwm = memory(t, coord.Pid())
		return status(t, bin, addr, sub.Sweep).State == "done"
	})
	took := time.Since(start)
	row("run to completion, 2 workers", fmt.Sprintf("%v (%.0f trials/s)", took.Round(time.Millisecond), float64(n)/took.Seconds()))
	row("coordinator memory, sweep running (peak sampled while it ran)", hwm)
	if st := status(t, bin, addr, sub.Sweep); st.Done != int64(n) {
		t.Fatalf("status when done: %+v", st)
	}

	start = time.Now()
	out := filepath.Join(dir, "report")
	_, ps, err := tryProc(bin, "report", sub.Sweep, "--coordinator", addr, "--out", out)
	if err != nil {
		row("report --out", "FAILED: "+firstLine(err.Error()))
		return
	}
	csvRows := countLines(t, filepath.Join(out, "trials.csv")) - 1
	row("report --out", fmt.Sprintf("%v, trials.csv %d rows", time.Since(start).Round(time.Millisecond), csvRows))
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		row("report process, peak resident (ru_maxrss)", fmt.Sprintf("%d MiB", ru.Maxrss/1024))
	}
	row("coordinator memory after the report (VmHWM: the peak since it started)", memory(t, coord.Pid()))
	if csvRows != n {
		t.Errorf("trials.csv has %d rows, want %d", csvRows, n)
	}
}

type statusOutput struct {
	State   string `json:"state"`
	Total   int64  `json:"total"`
	Pending int64  `json:"pending"`
	Done    int64  `json:"done"`
}

func status(t *testing.T, bin, addr, sweep string) statusOutput {
	t.Helper()
	var s statusOutput
	if err := json.Unmarshal([]byte(run(t, bin, "status", sweep, "--coordinator", addr, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// memory is the peak and current resident size of process pid, from
// /proc/PID/status: VmHWM, and VmRSS split into anonymous memory (the heap)
// and file pages (the store's mapped file, which the kernel may drop).
func memory(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			f[k] = mib(v)
		}
	}
	return fmt.Sprintf("VmHWM %s (now %s: anon %s, file %s)", f["VmHWM"], f["VmRSS"], f["RssAnon"], f["RssFile"])
}

// mib turns "  123456 kB" into "121 MiB".
func mib(v string) string {
	kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
	if err != nil {
		return strings.TrimSpace(v)
	}
	return fmt.Sprintf("%d MiB", kb/1024)
}

// startCoordinator starts the coordinator with the scale test's trial limit.
func startCoordinator(t *testing.T, db, listen string) (*proctest.Proc, string) {
	t.Helper()
	return proctest.StartCoordinator(t, db, listen, "--max-trials", "2000000")
}

// stopCoordinator sends SIGTERM and waits for the process to exit.
func stopCoordinator(t *testing.T, p *proctest.Proc) {
	t.Helper()
	if !p.Stop(2 * time.Minute) {
		t.Errorf("coordinator did not exit within 2 minutes of SIGTERM")
	}
}

func startWorker(t *testing.T, addr string, i int) {
	t.Helper()
	proctest.Start(t, nil, "worker", "--coordinator", addr, "--id", fmt.Sprintf("w%d", i), "--lease-wait", "500ms")
}

// run runs an eosweep command to completion and returns its stdout.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := try(bin, args...)
	if err != nil {
		t.Fatalf("eosweep %v: %v", args, err)
	}
	return out
}

// try runs an eosweep command: its stdout, or its stderr and an error with it.
func try(bin string, args ...string) (string, error) {
	out, _, err := tryProc(bin, args...)
	return out, err
}

// tryProc is try, with the process's state (its resource usage).
func tryProc(bin string, args ...string) (string, *os.ProcessState, error) {
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.String(), cmd.ProcessState, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return string(out), cmd.ProcessState, nil
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
