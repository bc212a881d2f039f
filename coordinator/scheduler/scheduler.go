// Package scheduler is the coordinator's lease state machine. It knows nothing
// of gRPC: handlers translate requests into its calls.
//
// # Basics
//
// A trial goes PENDING → LEASED(attempt k, deadline, token) → DONE, or FAILED
// after MaxAttempts with its last error. Lease hands out pending trials from
// an in-memory queue and records the leases in one store transaction. The
// queue is a FIFO per sweep; running sweeps take turns, each giving up to its
// spec's priority trials (queue.go), so they share the workers.
// Heartbeat extends a lease's deadline after checking its token. A lease whose
// deadline passes goes back to PENDING (the next lease is attempt k+1). The
// first valid result of a trial wins; later ones are duplicates and are not
// stored. Every state change is written to the store before it is
// acknowledged; only a heartbeat's new deadline is kept in memory alone (a
// restart releases every lease anyway).
//
// Tokens are an HMAC of (sweep, trial, attempt, lease sequence) under the
// store's secret, so a result from any attempt of a trial stays verifiable
// across restarts: results are deterministic, so a late result from an expired
// lease is still accepted if the trial has none yet. The lease sequence
// (store.Trial.LeaseSeq) is never reset, so no token is issued twice.
//
// # Restart
//
// New reloads the store. LEASED trials become PENDING (written to the store),
// but are held out of the queue for one lease TTL: a worker that heartbeats
// with the token of that attempt re-adopts its lease (as Nomad re-arms its
// timers after a leader change), so the trial is not run twice. When the hold
// passes the trial is queued. A sweep whose current round is complete is
// refined or finished from the stored state alone.
//
// # Pause
//
// An expiry pass more than half a lease TTL after the previous one means the
// process did not run (SIGSTOP, a GC or VM pause): every lease and restart
// hold gets a fresh TTL from now instead of expiring, since the heartbeats
// sent meanwhile are still unread.
//
// # Reconciliation
//
// Every tenth expiry pass advances each running sweep that has no pending or
// leased trial and no refinement step in flight: a step whose write failed
// is retried so (with backoff), and no sweep stays RUNNING without work.
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

// DefaultLeaseTTL is the default Config.LeaseTTL. Workers heartbeat every
// TTL/3, and an expired trial is queued first, so a dead worker's trial runs
// again within about 6.6 s (the TTL and one expiry tick).
const DefaultLeaseTTL = 6 * time.Second

// Config configures a Scheduler.
type Config struct {
	// LeaseTTL is how long a lease lives without a heartbeat (default
	// DefaultLeaseTTL).
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
		c.LeaseTTL = DefaultLeaseTTL
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
	queue    runQueue      // pending trials, a FIFO per sweep in weighted round robin; stale entries are skipped
	// execQueue holds the pending exec trials, leased only to workers that
	// run programs (Capabilities.Exec).
	execQueue runQueue
	leased    map[*trialState]struct{}
	held      map[*trialState]struct{}
	wake      chan struct{} // closed when work is queued
	closed    bool
	lastPass  time.Time // Config.Now of the last expiry pass (of New before the first)
	passes    int       // expiry passes run, for the reconciliation's period

	stop     chan struct{}
	loopDone chan struct{}
	bg       sync.WaitGroup // refinement goroutines

	hooks   hooks
	workers workers // the registry of workers heard from (workers.go)
	// batch is the trials of one write of a submit or a large update
	// (submitBatchTrials; tests lower it before the calls they watch).
	batch int
}

// hooks are called where tests synchronise with the scheduler's goroutines;
// they are nil outside tests (set them before the calls they watch start).
type hooks struct {
	leaseWaiting  func() // Lease found no work and is about to wait for some
	cancelWaiting func() // Cancel is about to wait for a refinement step in flight
	// advanced: a refinement step ended (err: it failed).
	advanced func(err error)
	// persist: a write is about to be queued; an error fails it.
	persist func(sweeps []store.Sweep, trials []store.TrialUpdate) error
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
	// queue is the FIFO of the sweep's queued trials, inRing whether the
	// sweep is in its runQueue's ring (queue.go).
	queue  []*trialState
	inRing bool
	// failures counts the refinement steps that failed in a row; the next
	// is not tried before retryAt.
	failures int
	retryAt  time.Time
}

// trialState is what the scheduler holds of a trial: its identity and the
// fields that change, no more. Its parameters and canonical key stay on disk
// (Lease reads them, one read transaction per batch); results never leave it.
// A million of them are held for a million-trial sweep: what only a lease
// needs is behind a pointer, and the struct is 128 bytes (TestTrialStateSize).
type trialState struct {
	sweep  *sweepState
	rec    trialRec
	steps  int        // resolved steps, for result validation
	lease  *leaseInfo // while LEASED
	queued bool
}

// leaseInfo is what a trial holds while it is leased.
type leaseInfo struct {
	token  string // the lease's token
	worker string // the worker that holds it (as last heard from)
}

// trialRec is the in-memory part of a trial's store record (store.Trial
// without Sweep, Params and Key). Deadline is the lease's deadline while
// LEASED, and the end of a restart hold (see package doc) while PENDING; it
// is never written (see update).
type trialRec struct {
	ID        string
	Seq       int
	Attempt   int
	Deadline  time.Time
	LastError string
	Round     int
	LeaseSeq  int
	State     store.TrialState // last: the struct packs tighter
}

// held reports whether t is held after a restart for the worker that may
// still run its last lease. Callers hold s.mu.
func (t *trialState) held() bool { return t.rec.State == store.Pending && !t.rec.Deadline.IsZero() }

// token returns the token of t's lease ("" when it is not leased).
func (t *trialState) token() string {
	if t.lease == nil {
		return ""
	}
	return t.lease.token
}

// worker returns the worker holding t's lease ("" when it is not leased).
func (t *trialState) worker() string {
	if t.lease == nil {
		return ""
	}
	return t.lease.worker
}

// update is the write of t's state to its stored record. Callers hold s.mu.
//
// A lease's deadline is not written: it lives in memory only (heartbeats
// move it without a write, and a restart gives every lease it finds a TTL of
// its own from its clock: see load), and what the coordinator serves
// overlays it on the stored record. Left out, a lease grows its record by
// its lease count alone, which the trial pages have room for (store's
// submitFill), instead of by the deadline's 46 bytes too, which split them.
func (t *trialState) update() store.TrialUpdate {
	return store.TrialUpdate{Sweep: t.sweep.rec.ID, ID: t.rec.ID, Seq: t.rec.Seq, State: t.rec.State,
		Attempt: t.rec.Attempt, LastError: t.rec.LastError, LeaseSeq: t.rec.LeaseSeq}
}

// overlay sets the state fields of a stored record r to those held in h:
// the stored record brought up to date (with the deadline of a lease, not
// of a restart hold). Callers hold s.mu or a copy of h.
func (h trialRec) overlay(r *store.Trial) {
	r.State, r.Attempt, r.Deadline, r.LastError, r.LeaseSeq = h.State, h.Attempt, h.Deadline, h.LastError, h.LeaseSeq
	if h.State != store.Leased {
		r.Deadline = time.Time{}
	}
}

// New loads every sweep from st and starts the lease-expiry loop.
func New(st *store.Store, cfg Config) (*Scheduler, error) {
	cfg.defaults()
	s := &Scheduler{
		cfg: cfg, st: st, secret: st.Secret(),
		sweeps: map[string]*sweepState{},
		leased: map[*trialState]struct{}{}, held: map[*trialState]struct{}{},
		wake: make(chan struct{}), stop: make(chan struct{}), loopDone: make(chan struct{}),
		lastPass: cfg.Now(),
		batch:    submitBatchTrials,
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
	wasHeld := t.held()
	sw.counts[t.rec.State]--
	t.rec.State = state
	sw.counts[state]++
	if state == store.Leased {
		s.leased[t] = struct{}{}
	} else {
		delete(s.leased, t)
		t.lease = nil
	}
	if wasHeld && state != store.Pending {
		delete(s.held, t) // a hold lasts while the trial stays PENDING
	}
	if state != store.Leased && (state != store.Pending || !wasHeld) {
		t.rec.Deadline = time.Time{}
	}
	if state == store.Done {
		sw.rate.add(s.cfg.Now(), 1)
	}
	sw.notify()
}

// enqueue queues a pending trial and wakes long-polling leasers. Callers hold s.mu.
func (s *Scheduler) enqueue(t *trialState) {
	if t.queued || t.rec.State != store.Pending || t.held() {
		return
	}
	t.queued = true
	if s.queueOf(t).push(t) && !s.closed { // leasers wait only on an empty queue
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// requeueFront queues pending trials at the head of their queues, in the
// order given: they lost a lease and have waited their turn once already.
// Callers hold s.mu.
func (s *Scheduler) requeueFront(ts []*trialState) {
	var sweeps []*sweepState
	front := map[*sweepState][]*trialState{}
	for _, t := range ts {
		if t.queued || t.rec.State != store.Pending || t.held() {
			continue
		}
		t.queued = true
		if front[t.sweep] == nil {
			sweeps = append(sweeps, t.sweep)
		}
		front[t.sweep] = append(front[t.sweep], t)
	}
	wasEmpty := false
	for _, sw := range sweeps {
		ts := front[sw]
		wasEmpty = s.queueOf(ts[0]).pushFront(sw, ts) || wasEmpty
	}
	if wasEmpty && !s.closed {
		close(s.wake)
		s.wake = make(chan struct{})
	}
}

// queueOf returns the queue t waits in: execQueue for an exec trial.
func (s *Scheduler) queueOf(t *trialState) *runQueue {
	if t.sweep.spec.Exec != nil {
		return &s.execQueue
	}
	return &s.queue
}

func (sw *sweepState) notify() {
	close(sw.changed)
	sw.changed = make(chan struct{})
}

// persist writes the state of trials (and the records of sweeps, if given) in one transaction.
func (s *Scheduler) persist(sweeps []store.Sweep, trials []store.TrialUpdate, extra ...store.Op) error {
	return s.persistAsync(sweeps, trials, extra...)()
}

// persistAsync queues the write of persist and returns the wait for it to be
// durable. Records snapshotted under s.mu are queued before s.mu is released,
// so two writes of one trial reach the store in the order they were made (a
// late result's DONE must not be overwritten by the PENDING of the lease
// expiry that preceded it).
func (s *Scheduler) persistAsync(sweeps []store.Sweep, trials []store.TrialUpdate, extra ...store.Op) (wait func() error) {
	if h := s.hooks.persist; h != nil {
		if err := h(sweeps, trials); err != nil {
			return func() error { return err }
		}
	}
	ops := make([]store.Op, 0, len(sweeps)+len(trials)+len(extra))
	for _, sw := range sweeps {
		op, err := store.SweepOp(sw)
		if err != nil {
			return func() error { return err }
		}
		ops = append(ops, op)
	}
	for _, t := range trials {
		ops = append(ops, store.UpdateOp(t))
	}
	ops = append(ops, extra...)
	if len(ops) <= s.batch {
		return s.st.ApplyAsync(ops...)
	}
	// A write of a whole large sweep (a cancel, a resume) goes in
	// transactions of s.batch ops, queued in order, the sweep records first
	// (the writes of one Lease or Deliver call are never this large).
	var waits []func() error
	for from := 0; from < len(ops); from += s.batch {
		waits = append(waits, s.st.ApplyAsync(ops[from:min(from+s.batch, len(ops))]...))
	}
	return func() error {
		var first error
		for _, w := range waits {
			if err := w(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}
