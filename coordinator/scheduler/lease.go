package scheduler

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	queues := []*[]*trialState{&s.queue}
	if caps.Exec {
		queues = append(queues, &s.execQueue)
	}
	now := s.cfg.Now()
	var recs []store.Trial
	for i := 0; len(leases) < limit; i++ {
		q := queues[i%len(queues)]
		if len(*q) == 0 {
			if q = queues[(i+1)%len(queues)]; len(*q) == 0 {
				break
			}
		}
		t := (*q)[0]
		(*q)[0] = nil
		*q = (*q)[1:]
		t.queued = false
		if t.rec.State != store.Pending || !t.holdUntil.IsZero() || t.sweep.rec.State != store.SweepRunning {
			continue // stale entry
		}
		t.rec.Attempt++
		s.setState(t, store.Leased)
		t.token = s.token(t.sweep.rec.ID, t.rec.ID, t.rec.Attempt)
		t.worker = worker
		t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
		recs = append(recs, t.rec)
		leases = append(leases, Lease{Sweep: t.sweep.rec.ID, Trial: t.rec.ID, Token: t.token, Model: t.sweep.rec.Model,
			Params: t.rec.Params, Attempt: t.rec.Attempt, Deadline: t.rec.Deadline, Exec: t.sweep.spec.Exec})
	}
	for _, q := range queues {
		if len(*q) == 0 {
			*q = nil // let the backing array go
		}
	}
	return leases, s.persistAsync(nil, recs), s.wake, nil
}

// unclaim returns leases that will not reach their worker to the front of
// the queue; if record, it queues the trials' records and returns the wait
// for them.
func (s *Scheduler) unclaim(leases []Lease, record bool) func() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	back := map[*[]*trialState][]*trialState{}
	var recs []store.Trial
	for _, l := range leases {
		t := s.sweeps[l.Sweep].trials[l.Trial]
		if t.rec.State == store.Leased && t.token == l.Token {
			s.setState(t, store.Pending)
			t.rec.Attempt--
			t.queued = true
			q := s.queueOf(t)
			back[q] = append(back[q], t)
			recs = append(recs, t.rec)
		}
	}
	wasEmpty := false
	for q, ts := range back {
		wasEmpty = wasEmpty || len(*q) == 0
		*q = append(ts, *q...)
	}
	if wasEmpty && len(back) > 0 && !s.closed {
		close(s.wake)
		s.wake = make(chan struct{})
	}
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
	var adopted []store.Trial
	for _, r := range refs {
		t := s.lookup(r.Sweep, r.Trial)
		switch {
		case t == nil:
			lost = append(lost, r)
		case t.rec.State == store.Leased && t.token == r.Token:
			t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
			t.worker = worker
		case t.rec.State == store.Pending && !t.holdUntil.IsZero() && s.tokenAttempt(t, r.Token) == t.rec.Attempt:
			s.setState(t, store.Leased)
			t.token, t.worker = r.Token, worker
			t.rec.Deadline = now.Add(s.cfg.LeaseTTL)
			adopted = append(adopted, t.rec)
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

// token is "attempt.mac": an HMAC of (sweep, trial, attempt) under the store secret.
func (s *Scheduler) token(sweep, trial string, attempt int) string {
	return strconv.Itoa(attempt) + "." + s.mac(sweep, trial, attempt)
}

func (s *Scheduler) mac(sweep, trial string, attempt int) string {
	h := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(h, "%s/%s/%d", sweep, trial, attempt)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// tokenAttempt returns the attempt a token was issued for, or 0 when the token
// was never issued for t (malformed, forged, or for a later attempt).
func (s *Scheduler) tokenAttempt(t *trialState, token string) int {
	a, mac, ok := strings.Cut(token, ".")
	if !ok {
		return 0
	}
	attempt, err := strconv.Atoi(a)
	if err != nil || attempt < 1 || attempt > t.rec.Attempt {
		return 0
	}
	if !hmac.Equal([]byte(mac), []byte(s.mac(t.sweep.rec.ID, t.rec.ID, attempt))) {
		return 0
	}
	return attempt
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
	var recs []store.Trial
	touched := map[*sweepState]bool{}
	for t := range s.leased {
		if now.Before(t.rec.Deadline) {
			continue
		}
		t.rec.LastError = fmt.Sprintf("lease of attempt %d expired (worker %s)", t.rec.Attempt, t.worker)
		s.cfg.Logger.Warn("lease expired", "sweep", t.sweep.rec.ID, "trial", t.rec.ID, "attempt", t.rec.Attempt, "worker", t.worker)
		if t.rec.Attempt >= s.cfg.MaxAttempts {
			s.setState(t, store.Failed)
		} else {
			s.setState(t, store.Pending)
			s.enqueue(t)
		}
		recs = append(recs, t.rec)
		touched[t.sweep] = true
	}
	for t := range s.held {
		if now.Before(t.holdUntil) {
			continue
		}
		delete(s.held, t)
		t.holdUntil = time.Time{}
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
}
