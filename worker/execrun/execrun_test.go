package execrun

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/proctest"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/testwait"
)

func newRunner(t *testing.T, allow ...string) *Runner {
	t.Helper()
	r, err := New(allow, 200*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// shTrial runs script with sh -c; params are substituted into the script.
func shTrial(script string, params map[string]float64) Trial {
	return Trial{Sweep: "sw", ID: "tr1", Command: []string{"sh", "-c", script}, Timeout: time.Minute, Params: params}
}

func TestResultFromStdout(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	script := `echo "training..."; echo '{"final_bias": -0.5, "test_acc": 0.75, "val_loss": 0.25, "diverged": false, ` +
		`"note": "ok", "steps_run": 40, "trajectory": [{"step": 0, "loss": 1, "bias": 0}, {"step": 40, "loss": 0.5, "bias": -0.5, "sharpness": 2}]}'; echo; echo "  "`
	res, err := r.Run(context.Background(), shTrial(script, nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.FinalBias != -0.5 || res.TestAcc == nil || *res.TestAcc != 0.75 || res.StepsRun != 40 || res.Diverged ||
		len(res.Metrics) != 1 || res.Metrics["val_loss"] != 0.25 || len(res.Trajectory) != 2 || res.Trajectory[1].Sharpness != 2 {
		t.Fatalf("result %+v", res)
	}
	if !(res.WallMS > 0) {
		t.Errorf("wall_ms = %v, want the measured run time", res.WallMS)
	}
}

func TestResultFromFile(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	script := `echo '{"final_bias": 1, "wall_ms": 7}' > "$EOSWEEP_RESULT"; echo 'not the result'`
	res, err := r.Run(context.Background(), shTrial(script, nil))
	if err != nil || res.FinalBias != 1 || res.WallMS != 7 {
		t.Fatalf("result %+v, %v", res, err)
	}
}

// Placeholders round-trip, and the environment carries the trial's ids and
// parameters but none of the worker's EOSWEEP_* variables.
func TestEnvironmentAndPlaceholders(t *testing.T) {
	t.Setenv("EOSWEEP_TOKEN", "secret-of-the-worker")
	r := newRunner(t)
	eta := 8 * math.Pi / 1e4
	tr := Trial{Sweep: "sweepA", ID: "trialB", Timeout: time.Minute,
		Command: []string{"sh", "-c", `printf '{"final_bias": %s, "seed_env": %s, "x": %s, "tok": %s}\n' "$1" "$EOSWEEP_PARAM_SEED" "${EOSWEEP_TOKEN:-0}" "$MY_VAR"; ` +
			`echo "$EOSWEEP_TRIAL_ID $EOSWEEP_SWEEP_ID $EOSWEEP_PARAM_ETA" >&2; exit 1`, "prog", "{eta}"},
		Env: map[string]string{"MY_VAR": "3"}, Params: map[string]float64{"eta": eta, "seed": 4}}
	_, err := r.Run(context.Background(), tr)
	if err == nil || !strings.Contains(err.Error(), "trialB sweepA "+strconv.FormatFloat(eta, 'g', -1, 64)) {
		t.Fatalf("stderr should carry the ids and the exact eta: %v", err)
	}
	tr.Command[2] = strings.Replace(tr.Command[2], "; exit 1", "", 1)
	res, err := r.Run(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinalBias != eta || res.Metrics["seed_env"] != 4 || res.Metrics["x"] != 0 || res.Metrics["tok"] != 3 {
		t.Fatalf("result %+v (final_bias must be eta exactly; x is the worker's token, which must not reach the program)", res)
	}
}

func TestProgressLines(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	var mu sync.Mutex
	var seen []engine.Point
	tr := shTrial(`for s in 0 10 20; do echo "EOSWEEP_PROGRESS {\"step\": $s, \"loss\": 0.$s, \"bias\": -$s}"; done; `+
		`echo 'EOSWEEP_PROGRESS garbage'; echo '{"final_bias": -20}'`, nil)
	tr.Progress = func(p engine.Point) { mu.Lock(); seen = append(seen, p); mu.Unlock() }
	res, err := r.Run(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[2] != (engine.Point{Step: 20, Loss: 0.2, Bias: -20}) {
		t.Fatalf("progress %+v", seen)
	}
	if len(res.Trajectory) != 3 || res.Trajectory[1].Step != 10 || res.FinalBias != -20 {
		t.Fatalf("result %+v: the progress points are its trajectory", res)
	}
}

// A trajectory longer than engine.MaxTrajectory is thinned to it, keeping
// the first and last points.
func TestTrajectoryDownsampled(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	script := `awk 'BEGIN { printf "{\"final_bias\": 0, \"trajectory\": ["; for (i = 0; i < 5000; i++) printf "%s{\"step\": %d, \"loss\": 1}", (i ? "," : ""), i; print "]}" }'`
	res, err := r.Run(context.Background(), shTrial(script, nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Trajectory); n != engine.MaxTrajectory || res.Trajectory[0].Step != 0 || res.Trajectory[n-1].Step != 4999 {
		t.Fatalf("%d points, first %+v last %+v", n, res.Trajectory[0], res.Trajectory[n-1])
	}
}

func TestCrashCarriesStatusAndStderrTail(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	// 20 KB of stderr, then the line that matters.
	_, err := r.Run(context.Background(), shTrial(`i=0; while [ $i -lt 400 ]; do echo "noise line $i ................................" >&2; i=$((i+1)); done; echo "Traceback: boom" >&2; exit 3`, nil))
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("error %v, want ErrFailed", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "exit status 3") || !strings.HasSuffix(msg, "Traceback: boom") || !strings.Contains(msg, "last 4096 bytes") {
		t.Fatalf("error does not carry the status and the end of stderr:\n%.300s", msg)
	}
	if len(msg) > StderrTail+200 {
		t.Fatalf("error is %d bytes: the stderr tail is not bounded", len(msg))
	}
	_, err = r.Run(context.Background(), shTrial(`kill -SEGV $$`, nil))
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "killed by signal 11") {
		t.Fatalf("signal: %v", err)
	}
}

func TestNoResult(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	for _, c := range []struct{ script, want string }{
		{`true`, "printed no result"},
		{`echo "done"`, "not a JSON object"},
		{`echo '[1, 2]'`, "not a JSON object"},
		{`echo '{"final_bias": NaN}'`, "NaN and Infinity are not JSON"},
		{`echo '{"final_bias": 1e999}'`, "final_bias: 1e999 is not a finite number"},
		{`echo '{"valLoss": 1}'`, `field "valLoss"`},
		{`echo '{"steps_run": 2.5}'`, "steps_run"},
		{`echo '{"trajectory": [{"step": -1}]}'`, "trajectory[0]: step"},
		{`echo '{"final_bias": 1}'; echo '' > "$EOSWEEP_RESULT"`, ""}, // an empty file: stdout is the result
	} {
		res, err := r.Run(context.Background(), shTrial(c.script, nil))
		if c.want == "" {
			if err != nil || res.FinalBias != 1 {
				t.Errorf("%s: %+v, %v", c.script, res, err)
			}
			continue
		}
		if !errors.Is(err, ErrNoResult) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrNoResult naming %q", c.script, err, c.want)
		}
	}
}

// dies reports whether process pid is gone (or a zombie) within 5 s: a
// SIGKILL is delivered asynchronously, so a process killed a moment ago may
// still be seen running.
func dies(pid int) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if !proctest.Alive(pid) {
			return true
		}
	}
	return false
}

// groupScript starts a grandchild sleep in the background (its pid written
// to pidfile) and, unless it ends by itself, waits on it; the program
// ignores SIGTERM when stubborn, so only SIGKILL ends it.
func groupScript(pidfile string, stubborn bool) string {
	trap := ""
	if stubborn {
		trap = "trap '' TERM; "
	}
	return trap + `sleep 1000 & echo $! > ` + pidfile + `; echo started; while :; do sleep 1; done`
}

func waitPid(t *testing.T, pidfile string) int {
	t.Helper()
	var pid int
	testwait.Poll(t, "the program to write its grandchild's pid", 10*time.Second, func() bool {
		data, err := os.ReadFile(pidfile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	})
	return pid
}

// Timeout, cancellation and lease loss (a context cancelled with a cause)
// kill the whole process group: the grandchild is gone when Run returns.
func TestStopKillsProcessGroup(t *testing.T) {
	t.Parallel()
	errLost := errors.New("lease lost")
	for _, c := range []struct {
		name     string
		stubborn bool
		timeout  time.Duration
		cancel   error // cause; nil = no cancel (the timeout stops it)
		want     error
	}{
		{"timeout", false, 300 * time.Millisecond, nil, ErrTimeout},
		{"timeout ignoring SIGTERM", true, 300 * time.Millisecond, nil, ErrTimeout},
		{"cancel", false, time.Minute, context.Canceled, context.Canceled},
		{"lease lost, SIGTERM ignored", true, time.Minute, errLost, errLost},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t)
			pidfile := filepath.Join(t.TempDir(), "pid")
			tr := shTrial(groupScript(pidfile, c.stubborn), nil)
			tr.Timeout = c.timeout
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			done := make(chan error, 1)
			go func() { _, err := r.Run(ctx, tr); done <- err }()
			pid := waitPid(t, pidfile)
			if !proctest.Alive(pid) {
				t.Fatalf("grandchild %d not running", pid)
			}
			if c.cancel != nil {
				cancel(c.cancel)
			}
			err := <-done
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if !dies(pid) {
				t.Fatalf("grandchild %d of the program survived", pid)
			}
			if c.want == ErrTimeout && !strings.Contains(err.Error(), "stderr empty") {
				t.Errorf("timeout error %q should carry the stderr tail", err)
			}
		})
	}
}

// A program that exits leaving a child behind in its group does not leave
// an orphan: the child is killed when the program's result is read.
func TestExitKillsLeftovers(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	pidfile := filepath.Join(t.TempDir(), "pid")
	res, err := r.Run(context.Background(), shTrial(`sleep 1000 >/dev/null 2>&1 & echo $! > `+pidfile+`; echo '{"final_bias": 2}'`, nil))
	if err != nil || res.FinalBias != 2 {
		t.Fatalf("%+v, %v", res, err)
	}
	if pid := waitPid(t, pidfile); !dies(pid) {
		t.Fatalf("leftover child %d survived", pid)
	}
}

func TestExecAllow(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New([]string{"no-such-program-eosweep"}, 0, nil); err == nil {
		t.Fatal("an allow entry that does not exist was accepted")
	}
	allowed := newRunner(t, sh) // by path; the trial names it by name
	if res, err := allowed.Run(context.Background(), shTrial(`echo '{"final_bias": 3}'`, nil)); err != nil || res.FinalBias != 3 {
		t.Fatalf("allowed program: %+v, %v", res, err)
	}
	other := newRunner(t, "true")
	pidfile := filepath.Join(t.TempDir(), "ran")
	_, err = other.Run(context.Background(), shTrial(`touch `+pidfile, nil))
	if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), `"sh"`) {
		t.Fatalf("error %v, want ErrNotAllowed naming sh", err)
	}
	if _, err := os.Stat(pidfile); err == nil {
		t.Fatal("the refused program ran")
	}
}

// A program printing 128 MiB, most of it in one line, does not make the
// worker hold it: what is allocated while it runs is a small fraction of
// what it printed. (Not parallel: it reads the process's allocation counter.)
func TestOutputBounded(t *testing.T) {
	r := newRunner(t)
	const printed = 128 << 20
	script := fmt.Sprintf(`head -c %d /dev/zero | tr '\0' x; echo; head -c %d /dev/zero | tr '\0' '\n'; echo '{"final_bias": 5}'`, printed-(1<<20), 1<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := r.Run(context.Background(), shTrial(script, nil))
	runtime.ReadMemStats(&after)
	if err != nil || res.FinalBias != 5 {
		t.Fatalf("%+v, %v", res, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("allocated %d MiB while the program printed %d MiB", alloc>>20, printed>>20)
	}
	if _, err := r.Run(context.Background(), shTrial(fmt.Sprintf(`head -c %d /dev/zero | tr '\0' x`, 2*MaxLine), nil)); !errors.Is(err, ErrNoResult) ||
		!strings.Contains(err.Error(), "longer than") {
		t.Fatalf("a last line beyond MaxLine: %v", err)
	}
}

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	b := &tailBuffer{max: 8}
	for _, w := range []string{"abc", "defgh", "ij", "0123456789", "k"} {
		_, _ = b.Write([]byte(w))
	}
	if b.String() != "3456789k" || !b.cut {
		t.Fatalf("tail %q cut %v", b.String(), b.cut)
	}
}

// A process that leaves the trial's group (setsid) is out of reach, but it
// cannot hold the worker: Run returns within the grace although it keeps
// the program's output open. (The test ends it by its pid.)
func TestEscapedProcessDoesNotHang(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("SKIPPED: setsid not found")
	}
	r := newRunner(t)
	pidfile := filepath.Join(t.TempDir(), "pid")
	res, err := r.Run(context.Background(), shTrial(`setsid sh -c 'echo $$ > `+pidfile+`; exec sleep 1000' & `+
		`while [ ! -s `+pidfile+` ]; do sleep 0.01; done; echo '{"final_bias": 4}'`, nil))
	pid := waitPid(t, pidfile)
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()
	if err != nil || res.FinalBias != 4 {
		t.Fatalf("%+v, %v", res, err)
	}
}

// A Python program: parameters from argv and the environment, progress
// lines flushed as it goes, the result on its last line; and a Python crash
// carries its traceback.
func TestPythonProgram(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIPPED: python3 not found")
	}
	script := filepath.Join(t.TempDir(), "train.py")
	err = os.WriteFile(script, []byte(`import json, math, os, sys
eta = float(sys.argv[1])
seed = int(os.environ["EOSWEEP_PARAM_SEED"])
if eta > 1:
    raise ValueError("step size too large")
for step in range(0, 30, 10):
    print("EOSWEEP_PROGRESS", json.dumps({"step": step, "loss": 1.0 / (1 + step), "bias": -eta * step}), flush=True)
print("all done", file=sys.stderr)
print(json.dumps({"final_bias": -eta * 20, "val_loss": math.log(1 + eta), "seed": seed, "name": "run"}))
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, py)
	tr := Trial{Sweep: "s", ID: "t", Command: []string{"python3", script, "{eta}"}, Timeout: time.Minute,
		Params: map[string]float64{"eta": 0.1, "seed": 2}}
	res, err := r.Run(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinalBias != -2 || res.Metrics["val_loss"] != math.Log(1.1) || res.Metrics["seed"] != 2 || len(res.Trajectory) != 3 {
		t.Fatalf("result %+v", res)
	}
	tr.Params["eta"] = 2
	_, err = r.Run(context.Background(), tr)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "exit status 1") ||
		!strings.HasSuffix(err.Error(), "ValueError: step size too large") {
		t.Fatalf("python crash: %v", err)
	}
}
