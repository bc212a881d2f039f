package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/coordinator/store/storetest"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

// testSpec is a small sweep of the single model: two groups (x0 = 1, 2)
// whose transitions, at 8/x0² = 8 and 2, both lie inside the η grid.
const testSpec = `name: test-sweep
model: single
grid:
  eta: [0.5, 1, 2, 3, 4, 6, 8, 12, 16]
  x0: [1, 2]
params: {steps: 200}
`

// harness is a dashboard over a real scheduler and store, served by
// httptest, with a fake clock for both.
type harness struct {
	t     *testing.T
	clk   *fakeclock.Clock // the time of the scheduler and the dashboard; drives lease expiry
	ticks *fakeclock.Clock // drives the dashboard's event streams
	sched *scheduler.Scheduler
	st    *store.Store
	d     *Dashboard
	srv   *httptest.Server
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clk: fakeclock.New(), ticks: fakeclock.New(), st: storetest.MustOpen(t)}
	var err error
	h.sched, err = scheduler.New(h.st, scheduler.Config{LeaseTTL: time.Minute, MaxAttempts: 1, Now: h.clk.Now, Ticks: h.clk.Ticks()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.sched.Close)
	cfg.Source = FromCoordinator(h.sched, h.st)
	cfg.Now, cfg.Ticks = h.clk.Now, h.ticks.Ticks()
	if cfg.FirstWait == 0 {
		cfg.FirstWait = -1 // pages wait for the analysis: what they show is determined
	}
	if h.d, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.d)
	t.Cleanup(h.srv.Close)
	t.Cleanup(h.d.Close) // first: streams end, so that the server can close
	return h
}

func (h *harness) submit(yaml string) string {
	h.t.Helper()
	sw, _, err := h.sched.Submit([]byte(yaml))
	if err != nil {
		h.t.Fatal(err)
	}
	return sw.ID
}

func (h *harness) lease(n int) []scheduler.Lease {
	h.t.Helper()
	ls, err := h.sched.Lease(context.Background(), "worker-1", n, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return ls
}

// finish leases n trials, runs them through the engine and delivers the results.
func (h *harness) finish(n int) {
	h.t.Helper()
	var ds []scheduler.Delivery
	for _, l := range h.lease(n) {
		cfg, err := engine.Resolve(l.Model, l.Params)
		if err != nil {
			h.t.Fatal(err)
		}
		r, err := engine.Run(context.Background(), cfg)
		if err != nil {
			h.t.Fatal(err)
		}
		ds = append(ds, scheduler.Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: r})
	}
	h.deliver(ds, scheduler.Accepted)
}

// fail leases n trials and reports an error for each (MaxAttempts is 1: they FAIL).
func (h *harness) fail(n int, msg string) {
	h.t.Helper()
	var ds []scheduler.Delivery
	for _, l := range h.lease(n) {
		ds = append(ds, scheduler.Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Failure: msg})
	}
	h.deliver(ds, scheduler.FailureRecorded)
}

func (h *harness) deliver(ds []scheduler.Delivery, want scheduler.Verdict) {
	h.t.Helper()
	rs, err := h.sched.Deliver(ds)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Verdict != want {
			h.t.Fatalf("delivery: verdict %v (%v), want %v", r.Verdict, r.Err, want)
		}
	}
}

// trials returns the sweep's trials in a state.
func (h *harness) trials(id string, st store.TrialState) []store.Trial {
	h.t.Helper()
	all, err := h.sched.Trials(id)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Trial
	for _, t := range all {
		if t.State == st {
			out = append(out, t)
		}
	}
	return out
}

// do sends a request (header pairs after the path) without following
// redirects and returns the response and its body.
func (h *harness) do(method, path string, header ...string) (*http.Response, string) {
	h.t.Helper()
	return do(h.t, h.srv, method, path, nil, header...)
}

func (h *harness) get(path string, header ...string) (*http.Response, string) {
	h.t.Helper()
	return h.do(http.MethodGet, path, header...)
}

// status sends a GET and returns the response's status code without reading
// its body (an event stream never ends).
func (h *harness) status(path string, header ...string) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func do(t *testing.T, srv *httptest.Server, method, path string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	cl := srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// mustContain fails the test for each want missing from body.
func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

// fakeSource is a Source over fixed data, counting its reads.
type fakeSource struct {
	mu      sync.Mutex
	infos   []scheduler.SweepInfo
	trials  map[string][]store.Trial
	results map[string]engine.Result
	workers []WorkerInfo
	changed map[string]chan struct{}
	// onTrials, if set, runs on every Trials call (a slow read, say).
	onTrials func()

	trialsCalls  int
	resultsAsked int // trials asked of Results, summed over calls
}

func newFakeSource() *fakeSource {
	return &fakeSource{trials: map[string][]store.Trial{}, results: map[string]engine.Result{}, changed: map[string]chan struct{}{}}
}

// addSweep adds a running sweep of the spec with the given trials.
func (f *fakeSource) addSweep(t testing.TB, id, yaml string, trials []store.Trial) {
	t.Helper()
	sp, err := spec.Parse([]byte(yaml), 200_000)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.infos = append(f.infos, scheduler.SweepInfo{Sweep: store.Sweep{ID: id, Name: sp.Name, Model: sp.Model, State: store.SweepRunning,
		Created: time.Unix(1_000_000, 0)}, Spec: sp})
	f.trials[id] = trials
	f.recount(id)
}

// set changes trial i of a sweep (its state, with a result when done) and
// announces the change.
func (f *fakeSource) set(id string, i int, st store.TrialState, r *engine.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &f.trials[id][i]
	t.State = st
	if r != nil {
		f.results[t.ID] = *r
	}
	f.recount(id)
}

// recount refreshes a sweep's progress and closes its Changed. f.mu held.
func (f *fakeSource) recount(id string) {
	for i := range f.infos {
		if f.infos[i].Sweep.ID != id {
			continue
		}
		var p scheduler.Progress
		for _, t := range f.trials[id] {
			p.Count(t.State)
		}
		if c, ok := f.changed[id]; ok {
			close(c)
		}
		c := make(chan struct{})
		f.changed[id] = c
		f.infos[i].Progress, f.infos[i].Changed = p, c
	}
}

func (f *fakeSource) Sweeps() []scheduler.SweepInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]scheduler.SweepInfo(nil), f.infos...)
}

func (f *fakeSource) Sweep(id string) (scheduler.SweepInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, info := range f.infos {
		if info.Sweep.ID == id {
			return info, nil
		}
	}
	return scheduler.SweepInfo{}, scheduler.ErrUnknownSweep
}

func (f *fakeSource) Trials(id string) ([]store.Trial, error) {
	f.mu.Lock()
	hook := f.onTrials
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trialsCalls++
	return append([]store.Trial(nil), f.trials[id]...), nil
}

func (f *fakeSource) TrialPage(id string, q TrialQuery) ([]TrialView, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pageOf(f.trials[id], q)
}

func (f *fakeSource) Trial(sweep, id string) (TrialView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.trials[sweep] {
		if t.ID == id {
			return view(t), nil
		}
	}
	return TrialView{}, ErrUnknownTrial
}

func (f *fakeSource) Summaries(trials []store.Trial) (map[string]engine.Result, error) {
	out, err := f.Results(trials)
	for k, r := range out {
		out[k] = store.Summary(r)
	}
	return out, err
}

func (f *fakeSource) Results(trials []store.Trial) (map[string]engine.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resultsAsked += len(trials)
	out := map[string]engine.Result{}
	for _, t := range trials {
		if r, ok := f.results[t.ID]; ok {
			out[t.ID] = r
		}
	}
	return out, nil
}

func (f *fakeSource) Workers() ([]WorkerInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.workers == nil {
		return nil, ErrNoWorkers
	}
	return f.workers, nil
}

func (f *fakeSource) reads() (trials, results int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trialsCalls, f.resultsAsked
}

// specTrials expands a spec into pending trial records of sweep id.
func specTrials(t testing.TB, id, yaml string) []store.Trial {
	t.Helper()
	sp, err := spec.Parse([]byte(yaml), 200_000)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := sp.Trials()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.Trial, len(ts))
	for i, tr := range ts {
		out[i] = store.Trial{Sweep: id, ID: tr.ID, Seq: i, Params: tr.Params, State: store.Pending}
	}
	return out
}

// runTrial runs a trial record through the engine.
func runTrial(t testing.TB, model string, tr store.Trial) engine.Result {
	t.Helper()
	cfg, err := engine.Resolve(model, tr.Params)
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
