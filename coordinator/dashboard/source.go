package dashboard

import (
	"errors"
	"fmt"
	"time"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// Source is everything the dashboard reads of a coordinator: the
// scheduler's in-memory view of sweeps and trials and the store's results.
// It only reads. FromCoordinator implements it over a scheduler and its
// store; tests implement it with fixed data.
type Source interface {
	// Sweeps returns every sweep, newest first.
	Sweeps() []scheduler.SweepInfo
	// Sweep returns one sweep; an unknown id wraps scheduler.ErrUnknownSweep.
	Sweep(id string) (scheduler.SweepInfo, error)
	// Trials returns every trial record of a sweep in insertion order (what
	// the analysis joins with the results).
	Trials(id string) ([]store.Trial, error)
	// TrialPage returns up to q.Limit trials of a sweep from the q.From-th
	// on, in insertion order, keeping only q.State (0: every state), and the
	// index to continue from (-1 after the last trial). A From outside the
	// trials wraps ErrBadQuery.
	TrialPage(id string, q TrialQuery) ([]TrialView, int, error)
	// Trial returns one trial of a sweep; an unknown one wraps ErrUnknownTrial.
	Trial(sweep, id string) (TrialView, error)
	// Results returns the stored results of the given trials by trial id;
	// a trial without a durable result is absent.
	Results(trials []store.Trial) (map[string]engine.Result, error)
	// Summaries is Results with each result as the analysis reads it,
	// without its trajectory (store.Summary).
	Summaries(trials []store.Trial) (map[string]engine.Result, error)
	// Workers returns the workers the coordinator knows, by id; it wraps
	// ErrNoWorkers when the coordinator keeps no record of them.
	Workers() ([]WorkerInfo, error)
}

// TrialQuery selects a page of a sweep's trials.
type TrialQuery struct {
	// State keeps only trials in this state (0: every trial).
	State store.TrialState
	// From is the index (in insertion order) of the first trial to look at.
	From int
	// Limit is the most trials returned (at least 1).
	Limit int
}

// TrialView is a trial as listed: its record and, while it is leased, the
// worker holding the lease ("" when unknown) and its deadline.
type TrialView struct {
	Trial    store.Trial
	Worker   string
	Deadline time.Time
}

// WorkerInfo is what the coordinator knows of one worker.
type WorkerInfo struct {
	ID string
	// Addr is the network address of its last call.
	Addr string
	// LastSeen is its last call (lease, heartbeat or report).
	LastSeen time.Time
	// Leases is how many leases it holds now.
	Leases int
	// Done and Failed count its stored results and recorded errors.
	Done, Failed int64
}

// Errors of a Source.
var (
	// ErrUnknownTrial is wrapped for a trial id the sweep does not have.
	ErrUnknownTrial = errors.New("unknown trial")
	// ErrNoWorkers is wrapped by Workers when the coordinator keeps no
	// registry of its workers.
	ErrNoWorkers = errors.New("this coordinator keeps no record of its workers")
	// ErrBadQuery is wrapped by TrialPage for a query that names no trials.
	ErrBadQuery = errors.New("bad query")
)

// FromCoordinator reads a coordinator's scheduler and store (the
// coordinator's Scheduler and Store fields): the same reads its gRPC
// handlers make.
//
// TrialPage reads one page of the scheduler (scheduler.TrialPage: it copies
// only that page) with the worker of each lease; Trial filters the whole
// list; Workers is the scheduler's registry of workers (scheduler.Workers).
func FromCoordinator(sched *scheduler.Scheduler, st *store.Store) Source {
	return coordSource{sched: sched, st: st}
}

type coordSource struct {
	sched *scheduler.Scheduler
	st    *store.Store
}

func (c coordSource) Sweeps() []scheduler.SweepInfo { return c.sched.Sweeps() }

func (c coordSource) Sweep(id string) (scheduler.SweepInfo, error) { return c.sched.Sweep(id) }

func (c coordSource) Trials(id string) ([]store.Trial, error) { return c.sched.Trials(id) }

func (c coordSource) TrialPage(id string, q TrialQuery) ([]TrialView, int, error) {
	var want func(store.TrialState) bool
	if q.State != 0 {
		want = func(st store.TrialState) bool { return st == q.State }
	}
	page, next, err := c.sched.TrialPage(id, q.From, max(q.Limit, 1), want)
	if errors.Is(err, scheduler.ErrBadPage) {
		return nil, -1, fmt.Errorf("%w: from: %v", ErrBadQuery, err)
	}
	if err != nil {
		return nil, -1, err
	}
	out := make([]TrialView, len(page))
	for i, t := range page {
		out[i] = view(t.Trial)
		out[i].Worker = t.Worker
	}
	return out, next, nil
}

// pageOf is TrialPage over a sweep's whole trial list.
func pageOf(trials []store.Trial, q TrialQuery) ([]TrialView, int, error) {
	if q.From < 0 || q.From > len(trials) {
		return nil, -1, fmt.Errorf("%w: from: %d is not a trial index (0 … %d)", ErrBadQuery, q.From, len(trials))
	}
	limit := max(q.Limit, 1)
	var out []TrialView
	for i := q.From; i < len(trials); i++ {
		t := trials[i]
		if q.State != 0 && t.State != q.State {
			continue
		}
		if len(out) == limit {
			return out, i, nil
		}
		out = append(out, view(t))
	}
	return out, -1, nil
}

func view(t store.Trial) TrialView {
	v := TrialView{Trial: t}
	if t.State == store.Leased {
		v.Deadline = t.Deadline
	}
	return v
}

func (c coordSource) Trial(sweep, id string) (TrialView, error) {
	trials, err := c.sched.Trials(sweep)
	if err != nil {
		return TrialView{}, err
	}
	for _, t := range trials {
		if t.ID == id {
			return view(t), nil
		}
	}
	return TrialView{}, fmt.Errorf("trial %q of sweep %s: %w", id, sweep, ErrUnknownTrial)
}

func (c coordSource) Results(trials []store.Trial) (map[string]engine.Result, error) {
	return c.st.ResultsFor(trials)
}

func (c coordSource) Summaries(trials []store.Trial) (map[string]engine.Result, error) {
	return c.st.SummariesFor(trials)
}

func (c coordSource) Workers() ([]WorkerInfo, error) {
	ws := c.sched.Workers()
	out := make([]WorkerInfo, len(ws))
	for i, w := range ws {
		out[i] = WorkerInfo{ID: w.ID, Addr: w.Address, LastSeen: w.LastSeen, Leases: w.Leases, Done: w.Done, Failed: w.Failed}
	}
	return out, nil
}
