package scheduler

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// Lease is one trial leased to a worker.
type Lease struct {
	Sweep    string
	Trial    string
	seq      int // the trial's, to read its parameters
	Token    string
	Model    string
	Params   map[string]float64
	Attempt  int
	Deadline time.Time
	// Exec is the program of an exec trial (nil for the engine's models).
	Exec *spec.Exec
}

// Capabilities say what a worker runs beyond the engine's models.
type Capabilities struct {
	// Exec: the worker runs exec trials (eosweep worker --allow-exec).
	Exec bool
}

// LeaseRef names a lease in Heartbeat.
type LeaseRef struct {
	Sweep, Trial, Token string
}

// MaxLeaseBatch bounds the trials of one Lease call (and so of one store
// transaction and one LeaseTrial response).
const MaxLeaseBatch = 4096

// Lease hands out up to limit pending trials to worker (limit is clamped to
// [1, MaxLeaseBatch]), waiting up to wait for one to be queued. It returns no
// leases (and no error) when the wait passes or ctx ends. The leases are
// durable before Lease returns. It is LeaseFor a worker without capabilities:
// no exec trial.
func (s *Scheduler) Lease(ctx context.Context, worker string, limit int, wait time.Duration) ([]Lease, error) {
	return s.LeaseFor(ctx, worker, Capabilities{}, limit, wait)
}

// LeaseFor is Lease for a worker with caps: exec trials go only to workers
// with caps.Exec (they are never handed out to be refused).
func (s *Scheduler) LeaseFor(ctx context.Context, worker string, caps Capabilities, limit int, wait time.Duration) ([]Lease, error) {
	limit = min(max(limit, 1), MaxLeaseBatch)
	s.workers.seen(worker, s.cfg.Now())
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		start := time.Now() // the grant's own time, for Observer.Leased
		leases, recorded, wake, err := s.claim(worker, caps, limit)
		if err != nil {
			return nil, err
		}
		if len(leases) > 0 {
			if err := recorded(); err != nil {
				s.unclaim(leases, false)
				return nil, fmt.Errorf("record leases: %w", err)
			}
			if err := s.readParams(leases); err != nil {
				if uerr := s.unclaim(leases, true)(); uerr != nil {
					s.cfg.Logger.Warn("record unclaimed leases", "err", uerr)
				}
				return nil, err
			}
			if ctx.Err() != nil {
				// The caller is gone and would never learn of these leases.
				if err := s.unclaim(leases, true)(); err != nil {
					s.cfg.Logger.Warn("record unclaimed leases", "err", err)
				}
				return nil, nil
			}
			s.cfg.Observer.Leased(len(leases), time.Since(start))
			return leases, nil
		}
		if h := s.hooks.leaseWaiting; h != nil {
			h()
		}
		select {
		case <-wake:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// claim takes up to limit trials off the queues caps allows (for exec, the
// exec queue and the engine's, in turn), marks them LEASED in memory and
// queues their records; recorded waits for them to be durable.
func (s *Scheduler) claim(worker string, caps Capabilities, limit int) (leases []Lease, recorded func() error, wake <-chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, nil, ErrClosed
	}
	queues := []*runQueue{&s.queue}
	if caps.Exec {
		queues = append(queues, &s.execQueue)
	}
	now := s.cfg.Now()
	var recs []store.TrialUpdate
	for i := 0; len(leases) < limit; i++ {
		t := queues[i%len(queues)].pop(leasable)
		if t == nil {
			if t = queues[(i+1)%len(queues)].pop(leasable); t == nil {
				break
			}
		}
		t.rec.Attempt++
		t.rec.LeaseSeq++
		s.setState(t, store.Leased)
		t.lease = &leaseInfo{token: s.token(t.sweep.rec.ID, t.rec.ID, t.rec.Attempt, t.rec.LeaseSeq), worker: worker}
		t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
		recs = append(recs, t.update())
		leases = append(leases, Lease{Sweep: t.sweep.rec.ID, Trial: t.rec.ID, seq: t.rec.Seq, Token: t.lease.token, Model: t.sweep.rec.Model,
			Attempt: t.rec.Attempt, Deadline: t.rec.Deadline, Exec: t.sweep.spec.Exec})
	}
	return leases, s.persistAsync(nil, recs), s.wake, nil
}

// leasable reports whether a queued trial may be leased (else its queue
// entry is stale). Callers hold s.mu.
func leasable(t *trialState) bool {
	return t.rec.State == store.Pending && !t.held() && t.sweep.rec.State == store.SweepRunning
}

// readParams sets the Params of leases from their stored records, in one
// read transaction per sweep of the batch.
func (s *Scheduler) readParams(leases []Lease) error {
	for from := 0; from < len(leases); {
		to := from + 1
		for to < len(leases) && leases[to].Sweep == leases[from].Sweep {
			to++
		}
		refs := make([]store.TrialRef, to-from)
		for i, l := range leases[from:to] {
			refs[i] = store.TrialRef{Seq: l.seq, ID: l.Trial}
		}
		recs, err := s.st.TrialsAt(leases[from].Sweep, refs)
		if err != nil {
			return fmt.Errorf("lease: read parameters: %w", err)
		}
		for i := range recs {
			leases[from+i].Params = recs[i].Params
		}
		from = to
	}
	return nil
}

// unclaim returns leases that will not reach their worker to the front of
// the queue; if record, it queues the trials' records and returns the wait
// for them.
func (s *Scheduler) unclaim(leases []Lease, record bool) func() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var back []*trialState
	var recs []store.TrialUpdate
	for _, l := range leases {
		t := s.sweeps[l.Sweep].trials[l.Trial]
		if t.rec.State == store.Leased && t.token() == l.Token {
			s.setState(t, store.Pending)
			t.rec.Attempt--
			back = append(back, t)
			recs = append(recs, t.update())
		}
	}
	s.requeueFront(back)
	if !record {
		return func() error { return nil }
	}
	return s.persistAsync(nil, recs)
}

// Heartbeat extends the deadlines of worker's leases and returns those it no
// longer holds. A lease released by a coordinator restart and still held for
// re-adoption is re-adopted by the heartbeat of its token.
func (s *Scheduler) Heartbeat(worker string, refs []LeaseRef) ([]LeaseRef, error) {
	s.workers.seen(worker, s.cfg.Now())
	s.mu.Lock()
	now := s.cfg.Now()
	var lost []LeaseRef
	var adopted []store.TrialUpdate
	for _, r := range refs {
		t := s.lookup(r.Sweep, r.Trial)
		switch {
		case t == nil:
			lost = append(lost, r)
		case t.rec.State == store.Leased && t.token() == r.Token:
			t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
			t.lease.worker = worker
		case t.held() && s.lastLease(t, r.Token):
			s.setState(t, store.Leased)
			t.lease = &leaseInfo{token: r.Token, worker: worker}
			t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
			adopted = append(adopted, t.update())
		default:
			lost = append(lost, r)
		}
	}
	closed := s.closed
	recorded := s.persistAsync(nil, adopted)
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if len(adopted) > 0 {
		s.cfg.Logger.Info("leases re-adopted after restart", "worker", worker, "trials", len(adopted))
		if err := recorded(); err != nil {
			return nil, fmt.Errorf("record re-adopted leases: %w", err)
		}
	}
	return lost, nil
}

func (s *Scheduler) lookup(sweep, trial string) *trialState {
	sw, ok := s.sweeps[sweep]
	if !ok {
		return nil
	}
	return sw.trials[trial]
}

// token is "attempt.seq.mac": an HMAC of (sweep, trial, attempt, seq) under
// the store secret, where seq is the trial's LeaseSeq. Attempts are reset by a
// resume and handed back by a release, lease sequences never are: no token is
// issued twice, so a stale holder's token never matches a later lease.
func (s *Scheduler) token(sweep, trial string, attempt, seq int) string {
	return strconv.Itoa(attempt) + "." + strconv.Itoa(seq) + "." + s.mac(fmt.Sprintf("%s/%s/%d/%d", sweep, trial, attempt, seq))
}

func (s *Scheduler) mac(msg string) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// tokenAttempt returns the attempt a token was issued for, or 0 when the token
// was never issued for t (malformed or forged). A token of a coordinator
// before lease sequences ("attempt.mac", an HMAC of (sweep, trial, attempt))
// still verifies, so its worker's results and re-adoption survive the upgrade.
func (s *Scheduler) tokenAttempt(t *trialState, token string) int {
	attempt, _ := s.tokenIssue(t, token)
	return attempt
}

// tokenIssue returns the attempt and lease sequence a token was issued for
// (sequence 0: a token from before lease sequences), or attempt 0 when it was
// never issued for t.
func (s *Scheduler) tokenIssue(t *trialState, token string) (attempt, seq int) {
	a, rest, ok := strings.Cut(token, ".")
	if !ok {
		return 0, 0
	}
	attempt, err := strconv.Atoi(a)
	if err != nil || attempt < 1 {
		return 0, 0
	}
	n, mac, ok := strings.Cut(rest, ".")
	if !ok { // before lease sequences: "attempt.mac"; such a trial has LeaseSeq 0 until leased again
		if attempt > t.rec.Attempt || !hmac.Equal([]byte(rest), []byte(s.mac(fmt.Sprintf("%s/%s/%d", t.sweep.rec.ID, t.rec.ID, attempt)))) {
			return 0, 0
		}
		return attempt, 0
	}
	seq, err = strconv.Atoi(n)
	if err != nil || seq < 1 || seq > t.rec.LeaseSeq ||
		!hmac.Equal([]byte(mac), []byte(s.mac(fmt.Sprintf("%s/%s/%d/%d", t.sweep.rec.ID, t.rec.ID, attempt, seq)))) {
		return 0, 0
	}
	return attempt, seq
}

// lastLease reports whether token is that of t's last lease (for re-adoption
// after a restart).
func (s *Scheduler) lastLease(t *trialState, token string) bool {
	attempt, seq := s.tokenIssue(t, token)
	return attempt > 0 && attempt == t.rec.Attempt && seq == t.rec.LeaseSeq
}

// expiryLoop returns expired leases and finished restart holds to the queue,
// once per tick of Config.Ticks or of its own ticker.
func (s *Scheduler) expiryLoop() {
	defer close(s.loopDone)
	ticks := s.cfg.Ticks
	if ticks == nil {
		ticker := time.NewTicker(min(max(s.cfg.LeaseTTL/10, 5*time.Millisecond), time.Second))
		defer ticker.Stop()
		ticks = ticker.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-ticks:
			s.expire()
		}
	}
}

// expire is one expiry pass as of Config.Now.
func (s *Scheduler) expire() {
	s.mu.Lock()
	now := s.cfg.Now()
	if gap := now.Sub(s.lastPass); gap > s.pauseGap() {
		s.rearm(now, gap)
	}
	var recs []store.TrialUpdate
	var requeue []*trialState
	touched := map[*sweepState]bool{}
	for t := range s.leased {
		if now.Before(t.rec.Deadline) {
			continue
		}
		t.rec.LastError = fmt.Sprintf("lease of attempt %d expired (worker %s)", t.rec.Attempt, t.worker())
		s.cfg.Logger.Warn("lease expired", "sweep", t.sweep.rec.ID, "trial", t.rec.ID, "attempt", t.rec.Attempt, "worker", t.worker())
		if t.rec.Attempt >= s.cfg.MaxAttempts {
			s.setState(t, store.Failed)
		} else {
			s.setState(t, store.Pending)
			requeue = append(requeue, t)
		}
		recs = append(recs, t.update())
		touched[t.sweep] = true
	}
	// They waited their turn once: first to run again, in their sweep's order.
	slices.SortFunc(requeue, func(a, b *trialState) int { return cmp.Compare(a.rec.Seq, b.rec.Seq) })
	s.requeueFront(requeue)
	for t := range s.held {
		if now.Before(t.rec.Deadline) {
			continue
		}
		delete(s.held, t)
		t.rec.Deadline = time.Time{}
		if t.sweep.rec.State == store.SweepRunning {
			s.enqueue(t)
		}
	}
	recorded := s.persistAsync(nil, recs)
	s.mu.Unlock()
	if err := recorded(); err != nil {
		s.cfg.Logger.Error("record expired leases", "err", err)
	}
	if len(recs) > 0 {
		s.cfg.Observer.LeasesExpired(len(recs))
	}
	for sw := range touched {
		s.maybeAdvance(sw)
	}
	// The gap to the next pass is counted from this pass's time, or from
	// here when it wrote expiries: a slow write held up the loop, not the
	// process.
	s.mu.Lock()
	s.lastPass = now
	if len(recs) > 0 {
		s.lastPass = s.cfg.Now()
	}
	s.passes++
	reconcile := s.passes%reconcileEvery == 0
	s.mu.Unlock()
	if reconcile {
		s.reconcile()
	}
}

// pauseGap is the longest time between two expiry passes that is not a pause
// of the coordinator. The loop runs every LeaseTTL/10 (at most 1 s), and a
// healthy worker's heartbeat leaves its lease at least 2/3 of a TTL, so a
// gap of half a TTL means the process did not run (SIGSTOP, a GC or VM pause,
// a stopped container) long enough to cost live leases their deadline. A
// gap under 100 ms is a loaded machine's scheduling jitter, not a pause
// (only tests run with TTLs that short).
func (s *Scheduler) pauseGap() time.Duration { return max(s.cfg.LeaseTTL/2, 100*time.Millisecond) }

// rearm gives every lease, and every restart hold, a fresh TTL from now:
// after a pause the heartbeats sent meanwhile are queued, unread, and the
// deadlines they would have extended say nothing of the workers (as after a
// restart). Callers hold s.mu.
func (s *Scheduler) rearm(now time.Time, gap time.Duration) {
	for t := range s.leased {
		t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
	}
	for t := range s.held {
		t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
	}
	s.cfg.Logger.Warn("coordinator paused: lease deadlines re-armed", "gap", gap,
		"leases", len(s.leased), "held", len(s.held), "ttl", s.cfg.LeaseTTL)
}
