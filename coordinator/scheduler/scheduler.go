// Package scheduler is the coordinator's lease state machine. It knows nothing
// of gRPC: handlers translate requests into its calls.
//
// # Basics
//
// A trial goes PENDING → LEASED(attempt k, deadline, token) → DONE, or FAILED
// after MaxAttempts with its last error. Lease hands out pending trials from
// an in-memory queue and records the leases in one store transaction.
// Heartbeat extends a lease's deadline after checking its token. A lease whose
// deadline passes goes back to PENDING (the next lease is attempt k+1). The
// first valid result of a trial wins; later ones are duplicates and are not
// stored. Every state change is written to the store before it is
// acknowledged; only a heartbeat's new deadline is kept in memory alone (a
// restart releases every lease anyway).
//
// Tokens are an HMAC of (sweep, trial, attempt) under the store's secret, so a
// result from any attempt of a trial stays verifiable across restarts: results
// are deterministic, so a late result from an expired lease is still accepted
// if the trial has none yet.
//
// # Restart
//
// New reloads the store. LEASED trials become PENDING (written to the store),
// but are held out of the queue for one lease TTL: a worker that heartbeats
// with the token of that attempt re-adopts its lease (as Nomad re-arms its
// timers after a leader change), so the trial is not run twice. When the hold
// passes the trial is queued. A sweep whose current round is complete is
// refined or finished from the stored state alone.
package scheduler

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// Sentinel errors.
var (
	// ErrUnknownSweep is returned for a sweep id the scheduler does not hold.
	ErrUnknownSweep = errors.New("unknown sweep")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("scheduler closed")
	// ErrInvalidResult is wrapped by every result validation error. It is
	// engine.ErrInvalidResult, which the wire conversion wraps too.
	ErrInvalidResult = engine.ErrInvalidResult
)

// Config configures a Scheduler.
type Config struct {
	// LeaseTTL is how long a lease lives without a heartbeat (default 30s).
	LeaseTTL time.Duration
	// MaxAttempts is how many leases a trial gets before it is FAILED (default 3).
	MaxAttempts int
	// MaxTrials bounds a spec's grid (default spec.DefaultMaxTrials).
	MaxTrials int
	// Refiner plans refinement rounds; nil disables refinement.
	Refiner Refiner
	// Logger receives state changes worth a line; nil discards.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Ticks, if set, drives the lease-expiry loop: one expiry pass (as of
	// Now) per value received, and no ticker of its own. A fake clock's tick
	// channel goes here, so that the clock drives expiry as well as
	// deadlines. Default: a ticker every LeaseTTL/10, within [5 ms, 1 s].
	Ticks <-chan time.Time
	// Observer, if set, is told of outcomes where the scheduler decides them
	// (metrics).
	Observer Observer
	// ReleaseOnLoad queues the trials New finds LEASED at once, without the
	// hold for re-adoption: their workers died with the process that held
	// them (an embedded run), so no heartbeat can come back for them.
	ReleaseOnLoad bool
}

// Observer is told of outcomes at the few points where the scheduler knows
// them. Its methods are called outside the scheduler's lock and must be cheap.
type Observer interface {
	// Delivered is told the receipts of one Deliver call whose writes are
	// durable (not of a call that failed).
	Delivered(rs []Receipt)
	// Leased is told how many leases one Lease call granted and how long the
	// grant took once there was work: the claim and its durable write,
	// without the long poll's wait.
	Leased(n int, d time.Duration)
	// LeasesExpired is told how many leases one expiry pass returned.
	LeasesExpired(n int)
}

type nopObserver struct{}

func (nopObserver) Delivered([]Receipt)       {}
func (nopObserver) Leased(int, time.Duration) {}
func (nopObserver) LeasesExpired(int)         {}

func (c *Config) defaults() {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.MaxTrials <= 0 {
		c.MaxTrials = spec.DefaultMaxTrials
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
}

// Scheduler owns the state of every sweep and trial.
type Scheduler struct {
	cfg    Config
	st     *store.Store
	secret []byte

	submitMu sync.Mutex // serialises Submit, Cancel and refinement steps, so two submissions of one spec cannot both create it
	mu       sync.Mutex
	sweeps   map[string]*sweepState
	order    []*sweepState // by creation
	queue    []*trialState // FIFO of pending trials; stale entries are skipped
	// execQueue is the FIFO of pending exec trials, leased only to workers
	// that run programs (Capabilities.Exec).
	execQueue []*trialState
	leased    map[*trialState]struct{}
	held      map[*trialState]struct{}
	wake      chan struct{} // closed when work is queued
	closed    bool

	stop     chan struct{}
	loopDone chan struct{}
	bg       sync.WaitGroup // refinement goroutines

	hooks   hooks
	workers workers // the registry of workers heard from (workers.go)
}

// hooks are called where tests synchronise with the scheduler's goroutines;
// they are nil outside tests (set them before the calls they watch start).
type hooks struct {
	leaseWaiting  func() // Lease found no work and is about to wait for some
	cancelWaiting func() // Cancel is about to wait for a refinement step in flight
}

type sweepState struct {
	rec     store.Sweep
	spec    *spec.Spec
	trials  map[string]*trialState
	list    []*trialState // by Seq
	counts  [store.NumTrialStates]int
	rate    rateMeter
	changed chan struct{} // closed on every change
	// refining is set while a refinement step runs for this sweep.
	refining bool
}

type trialState struct {
	sweep     *sweepState
	rec       store.Trial
	steps     int    // resolved steps, for result validation
	token     string // current lease's token
	worker    string
	queued    bool
	holdUntil time.Time // restart hold (see package doc)
}

// New loads every sweep from st and starts the lease-expiry loop.
func New(st *store.Store, cfg Config) (*Scheduler, error) {
	cfg.defaults()
	s := &Scheduler{
		cfg: cfg, st: st, secret: st.Secret(),
		sweeps: map[string]*sweepState{},
		leased: map[*trialState]struct{}{}, held: map[*trialState]struct{}{},
		wake: make(chan struct{}), stop: make(chan struct{}), loopDone: make(chan struct{}),
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	go s.expiryLoop()
	for _, sw := range s.order {
		s.maybeAdvance(sw)
	}
	return s, nil
}

// Close stops the expiry loop and waits for refinement steps in flight.
// Long-polling Lease calls return.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.wake)
	s.mu.Unlock()
	close(s.stop)
	<-s.loopDone
	s.bg.Wait()
}

// LeaseTTL returns the configured lease lifetime.
func (s *Scheduler) LeaseTTL() time.Duration { return s.cfg.LeaseTTL }

// setState moves t to state, keeping counts, the leased and held sets and the
// sweep's change notification in step. Callers hold s.mu.
func (s *Scheduler) setState(t *trialState, state store.TrialState) {
	sw := t.sweep
	sw.counts[t.rec.State]--
	t.rec.State = state
	sw.counts[state]++
	if state == store.Leased {
		s.leased[t] = struct{}{}
	} else {
		delete(s.leased, t)
		t.token, t.worker = "", ""
		t.rec.Deadline = time.Time{}
	}
	if state != store.Pending || t.holdUntil.IsZero() {
		delete(s.held, t)
		t.holdUntil = time.Time{}
	}
	if state == store.Done {
		sw.rate.add(s.cfg.Now(), 1)
	}
	sw.notify()
}

// enqueue queues a pending trial and wakes long-polling leasers. Callers hold s.mu.
func (s *Scheduler) enqueue(t *trialState) {
	if t.queued || t.rec.State != store.Pending || !t.holdUntil.IsZero() {
		return
	}
	t.queued = true
	q := s.queueOf(t)
	wasEmpty := len(*q) == 0
	*q = append(*q, t)
	if wasEmpty && !s.closed { // leasers wait only on an empty queue
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// queueOf returns the queue t waits in: execQueue for an exec trial.
func (s *Scheduler) queueOf(t *trialState) *[]*trialState {
	if t.sweep.spec.Exec != nil {
		return &s.execQueue
	}
	return &s.queue
}

func (sw *sweepState) notify() {
	close(sw.changed)
	sw.changed = make(chan struct{})
}

// persist writes the records of trials (and of sweeps, if given) in one transaction.
func (s *Scheduler) persist(sweeps []store.Sweep, trials []store.Trial, extra ...store.Op) error {
	return s.persistAsync(sweeps, trials, extra...)()
}

// persistAsync queues the write of persist and returns the wait for it to be
// durable. Records snapshotted under s.mu are queued before s.mu is released,
// so two writes of one trial reach the store in the order they were made (a
// late result's DONE must not be overwritten by the PENDING of the lease
// expiry that preceded it).
func (s *Scheduler) persistAsync(sweeps []store.Sweep, trials []store.Trial, extra ...store.Op) (wait func() error) {
	ops := make([]store.Op, 0, len(sweeps)+len(trials)+len(extra))
	for _, sw := range sweeps {
		op, err := store.SweepOp(sw)
		if err != nil {
			return func() error { return err }
		}
		ops = append(ops, op)
	}
	for _, t := range trials {
		op, err := store.TrialOp(t)
		if err != nil {
			return func() error { return err }
		}
		ops = append(ops, op)
	}
	return s.st.ApplyAsync(append(ops, extra...)...)
}
