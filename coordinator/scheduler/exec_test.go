package scheduler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/engine"
)

const execTrials = "name: prog\nmodel: exec\nexec: {command: [python3, train.py, --lr, \"{eta}\"], timeout: 1m}\n" +
	"grid: {eta: [0.5, 1, 2], seed: [0, 1]}\nparams: {width: 3}\n"

func leaseExec(t *testing.T, s *Scheduler, n int) []Lease {
	t.Helper()
	ls, err := s.LeaseFor(context.Background(), "w", Capabilities{Exec: true}, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// An exec trial's result is a program's: no step count, no θ₀ to record,
// but every value finite and the metrics bounded and named.
func TestExecResultValidation(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := newTestScheduler(t, nil, nil, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	submit(t, s, execTrials)
	if got := logs.String(); !strings.Contains(got, `msg="exec sweep submitted"`) ||
		!strings.Contains(got, `command="[python3 train.py --lr {eta}]"`) {
		t.Errorf("the coordinator's log does not name the exec sweep's command:\n%s", got)
	}
	ls := leaseExec(t, s, 6)
	nanMetric := engine.Result{Metrics: map[string]float64{"val_loss": math.NaN()}}
	badName := engine.Result{Metrics: map[string]float64{"Val": 1}}
	negSteps := engine.Result{StepsRun: -1}
	infBias := engine.Result{FinalBias: math.Inf(-1)}
	badPoint := engine.Result{Trajectory: []engine.Point{{Step: -3}}}
	for _, c := range []struct {
		name  string
		r     engine.Result
		field string
	}{
		{"nan metric", nanMetric, "metrics.val_loss"},
		{"bad metric name", badName, `name "Val"`},
		{"negative steps", negSteps, "steps_run"},
		{"inf bias", infBias, "final_bias"},
		{"negative step", badPoint, "trajectory[0].step"},
	} {
		r := deliverOne(t, s, ls[0], c.r)
		if r.Verdict != Rejected || !errors.Is(r.Err, ErrInvalidResult) || !strings.Contains(r.Err.Error(), c.field) {
			t.Errorf("%s: %+v, want rejected naming %s", c.name, r, c.field)
		}
	}
	// What a program typically reports: a few fields and metrics, no trajectory,
	// any step count.
	ok := engine.Result{FinalBias: -0.3, StepsRun: 1 << 20, Metrics: map[string]float64{"val_loss": 0.25}}
	if r := deliverOne(t, s, ls[0], ok); r.Verdict != Accepted {
		t.Fatalf("valid program result: %+v", r)
	}
	// The engine's models keep their checks: a native result still needs θ₀,
	// and metrics are checked there too.
	s2 := newTestScheduler(t, nil, nil, Config{})
	submit(t, s2, fourTrials)
	l := lease(t, s2, 1)[0]
	withBadMetric := goodResult(0)
	withBadMetric.Metrics = map[string]float64{"x": math.Inf(1)}
	if r := deliverOne(t, s2, l, withBadMetric); r.Verdict != Rejected || !strings.Contains(r.Err.Error(), "metrics.x") {
		t.Errorf("native result with a bad metric: %+v", r)
	}
	if r := deliverOne(t, s2, l, ok); r.Verdict != Rejected || !strings.Contains(r.Err.Error(), "steps_run") {
		t.Errorf("native trial accepted a program's result: %+v", r)
	}
}

// An exec sweep reloads after a restart: its trials are resolved from the
// stored spec, not by the engine, and a completed one stays completed.
func TestExecSweepSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	st := openStore(t, path)
	s := newTestScheduler(t, st, nil, Config{})
	sw := submit(t, s, execTrials)
	l := leaseExec(t, s, 1)[0]
	if l.Model != engine.ModelExec || l.Params["width"] != 3 {
		t.Fatalf("lease %+v", l)
	}
	if r := deliverOne(t, s, l, engine.Result{FinalBias: 1}); r.Verdict != Accepted {
		t.Fatalf("%+v", r)
	}
	s.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	t.Cleanup(func() { _ = st.Close() }) // after the scheduler's Close (cleanups run last first)
	s = newTestScheduler(t, st, nil, Config{})
	if p := progress(t, s, sw.ID); p.Done != 1 || p.Pending != 5 {
		t.Fatalf("after restart: %+v", p)
	}
	if r := deliverOne(t, s, l, engine.Result{FinalBias: 1}); r.Verdict != Duplicate {
		t.Fatalf("completed trial after restart: %+v", r)
	}
}

// A long-polling worker without the capability is not handed an exec trial
// submitted while it waits; one with it is woken by the submit.
func TestExecLongPoll(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	plain := make(chan []Lease, 1)
	waiting := make(chan struct{}, 2)
	s.hooks.leaseWaiting = func() { waiting <- struct{}{} }
	go func() {
		ls, _ := s.LeaseFor(context.Background(), "plain", Capabilities{}, 10, 300*time.Millisecond)
		plain <- ls
	}()
	<-waiting
	runner := make(chan []Lease, 1)
	go func() {
		ls, _ := s.LeaseFor(context.Background(), "runner", Capabilities{Exec: true}, 10, time.Minute)
		runner <- ls
	}()
	<-waiting
	submit(t, s, execTrials)
	if ls := <-runner; len(ls) != 6 || ls[0].Exec == nil || ls[0].Exec.Command[0] != "python3" {
		t.Fatalf("exec worker got %+v", ls)
	}
	if ls := <-plain; len(ls) != 0 {
		t.Fatalf("plain worker got %+v", ls)
	}
}

// An exec sweep's trials always run: a second sweep of the same program and
// grid reuses none of the first one's stored results (the program is the
// user's, and may have changed).
func TestExecTrialsNotReused(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, nil, nil, Config{})
	submit(t, s, execTrials)
	for _, l := range leaseExec(t, s, 6) {
		if rc := deliverOne(t, s, l, engine.Result{Metrics: map[string]float64{"val_loss": 0.5}}); rc.Verdict != Accepted {
			t.Fatalf("deliver %s: %+v", l.Trial, rc)
		}
	}
	again := submit(t, s, strings.Replace(execTrials, "name: prog", "name: prog-again", 1))
	if again.Reused != 0 {
		t.Fatalf("an exec sweep reused %d stored results, want 0", again.Reused)
	}
	if n := len(leaseExec(t, s, 6)); n != 6 {
		t.Fatalf("%d of the second exec sweep's trials leased, want 6", n)
	}
}
