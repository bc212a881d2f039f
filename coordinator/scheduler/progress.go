package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
)

// Progress counts a sweep's trials per state, with the recent result rate.
// A result counts as DONE from the moment it is accepted, which is up to one
// group commit (typically well under a millisecond) before it is durable.
type Progress struct {
	Total, Pending, Leased, Done, Failed, Cancelled int
	// ResultsPerSecond is the completion rate over the last ~30 s.
	ResultsPerSecond float64
	// ETA is the time to finish the current round's pending and leased
	// trials at that rate (0 when unknown or nothing is left).
	ETA time.Duration
	// LastResult is when the sweep's last result was accepted since the
	// scheduler started (zero when none was).
	LastResult time.Time
}

// trialStates are the states Progress counts, in lifecycle order.
var trialStates = []store.TrialState{store.Pending, store.Leased, store.Done, store.Failed, store.Cancelled}

// count returns the counter of state st, nil for a state Progress does not count.
func (p *Progress) count(st store.TrialState) *int {
	switch st {
	case store.Pending:
		return &p.Pending
	case store.Leased:
		return &p.Leased
	case store.Done:
		return &p.Done
	case store.Failed:
		return &p.Failed
	case store.Cancelled:
		return &p.Cancelled
	}
	return nil
}

// Count adds one trial in state st (to Total and to st's counter): how a
// reader of the store (the CLI's --db) counts a sweep's trials.
func (p *Progress) Count(st store.TrialState) {
	p.Total++
	if c := p.count(st); c != nil {
		*c++
	}
}

// Add adds q's trial counts to p (a total over sweeps); rate and ETA are left alone.
func (p *Progress) Add(q Progress) {
	p.Total += q.Total
	for _, st := range trialStates {
		*p.count(st) += *q.count(st)
	}
}

// ByState returns the counts by lower-case state name ("pending", "leased",
// "done", "failed", "cancelled"), every state present: the trial-state gauge.
func (p Progress) ByState() map[string]int {
	out := make(map[string]int, len(trialStates))
	for _, st := range trialStates {
		out[strings.ToLower(st.String())] = *p.count(st)
	}
	return out
}

// SweepInfo is a sweep with its parsed spec and progress.
type SweepInfo struct {
	Sweep    store.Sweep
	Spec     *spec.Spec
	Progress Progress
	// Changed is closed at the sweep's next change (for watchers).
	Changed <-chan struct{}
}

// Sweep returns one sweep.
func (s *Scheduler) Sweep(id string) (SweepInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sw, ok := s.sweeps[id]
	if !ok {
		return SweepInfo{}, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	return s.info(sw), nil
}

// Sweeps returns every sweep, newest first.
func (s *Scheduler) Sweeps() []SweepInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SweepInfo, 0, len(s.order))
	for i := len(s.order) - 1; i >= 0; i-- {
		out = append(out, s.info(s.order[i]))
	}
	return out
}

func (s *Scheduler) info(sw *sweepState) SweepInfo {
	c := sw.counts
	p := Progress{Total: len(sw.list), Pending: c[store.Pending], Leased: c[store.Leased], Done: c[store.Done],
		Failed: c[store.Failed], Cancelled: c[store.Cancelled]}
	p.ResultsPerSecond = sw.rate.rate(s.cfg.Now())
	if left := p.Pending + p.Leased; left > 0 && p.ResultsPerSecond > 0 {
		p.ETA = time.Duration(float64(left) / p.ResultsPerSecond * float64(time.Second))
	}
	p.LastResult = sw.rate.last
	return SweepInfo{Sweep: sw.rec, Spec: sw.spec, Progress: p, Changed: sw.changed}
}

// Trials returns a sweep's trials in insertion order: their stored records
// with the state the scheduler holds. It reads every record of the sweep;
// TrialRange reads one page.
func (s *Scheduler) Trials(id string) ([]store.Trial, error) {
	out, _, err := s.TrialRange(id, 0, -1)
	return out, err
}

// TrialRange returns up to n of a sweep's trials (n < 0: all) from its
// from-th on, in insertion order, and how many the sweep has: their stored
// records, read in one transaction, with the state the scheduler holds.
func (s *Scheduler) TrialRange(id string, from, n int) ([]store.Trial, int, error) {
	s.mu.Lock()
	sw, ok := s.sweeps[id]
	total := 0
	if ok {
		total = len(sw.list)
	}
	s.mu.Unlock()
	if !ok {
		return nil, 0, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	from = min(max(from, 0), total)
	if n < 0 || n > total-from {
		n = total - from
	}
	recs, err := s.st.TrialRange(id, from, n)
	if err != nil {
		return nil, 0, fmt.Errorf("sweep %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(recs) != n {
		return nil, 0, fmt.Errorf("sweep %s: %d trials stored from %d, want %d", id, len(recs), from, n)
	}
	for i := range recs {
		t := sw.list[from+i]
		if recs[i].ID != t.rec.ID {
			return nil, 0, fmt.Errorf("sweep %s: trial %d stored as %s, held as %s", id, from+i, recs[i].ID, t.rec.ID)
		}
		t.rec.overlay(&recs[i])
	}
	return recs, total, nil
}

// rateMeter estimates a completion rate from samples taken at most once per
// second over a 30-second window.
type rateMeter struct {
	total   int
	samples []rateSample
	last    time.Time // of the latest add
}

type rateSample struct {
	at    time.Time
	total int
}

const rateWindow = 30 * time.Second

func (m *rateMeter) add(now time.Time, n int) {
	m.total += n
	m.last = now
	if len(m.samples) == 0 || now.Sub(m.samples[len(m.samples)-1].at) >= time.Second/4 {
		m.samples = append(m.samples, rateSample{now, m.total})
	} else {
		m.samples[len(m.samples)-1].total = m.total
	}
	for len(m.samples) > 2 && now.Sub(m.samples[1].at) > rateWindow {
		m.samples = m.samples[1:]
	}
}

func (m *rateMeter) rate(now time.Time) float64 {
	if len(m.samples) == 0 || now.Sub(m.samples[len(m.samples)-1].at) > rateWindow {
		return 0
	}
	first := m.samples[0]
	// The first sample's total includes the results it counts, so measure
	// from the first completion to now.
	span := now.Sub(first.at).Seconds()
	if span < 0.5 {
		return 0
	}
	return float64(m.total-first.total) / span
}
