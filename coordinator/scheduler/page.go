package scheduler

import (
	"errors"
	"fmt"

	"github.com/eosweep/eosweep/coordinator/store"
)

// ErrBadPage is wrapped by TrialPage for a start index outside the sweep's trials.
var ErrBadPage = errors.New("not a trial index of the sweep")

// TrialAt is one trial of a page: its record, its index in the sweep's
// insertion order (where a following page starts) and, while it is leased,
// the worker holding the lease.
type TrialAt struct {
	Index  int
	Trial  store.Trial
	Worker string
}

// TrialPage returns up to limit (at least 1) trials of sweep id from the
// from-th on, in insertion order, keeping only those whose state want
// accepts (nil: every state), and the index the next page starts from (-1
// after the last trial). It copies only the trials it returns, so paging
// through a sweep costs O(trials) in all, not O(trials) per page. A from
// outside [0, trials] wraps ErrBadPage.
func (s *Scheduler) TrialPage(id string, from, limit int, want func(store.TrialState) bool) ([]TrialAt, int, error) {
	s.mu.Lock()
	sw, ok := s.sweeps[id]
	if !ok {
		s.mu.Unlock()
		return nil, -1, fmt.Errorf("sweep %q: %w", id, ErrUnknownSweep)
	}
	if from < 0 || from > len(sw.list) {
		n := len(sw.list)
		s.mu.Unlock()
		return nil, -1, &reason{kind: ErrBadPage, msg: fmt.Sprintf("%d is not a trial index (0 … %d)", from, n)}
	}
	limit = max(limit, 1)
	next := -1
	var out []TrialAt
	var held []trialRec // the state fields as held, laid over the stored records
	for i := from; i < len(sw.list); i++ {
		t := sw.list[i]
		if want != nil && !want(t.rec.State) {
			continue
		}
		if len(out) == limit {
			next = i
			break
		}
		at := TrialAt{Index: i}
		if t.rec.State == store.Leased {
			at.Worker = t.worker()
		}
		out = append(out, at)
		held = append(held, t.rec)
	}
	s.mu.Unlock()
	// Parameters and keys live on disk (the scheduler keeps only the state):
	// the page's records are read in one transaction.
	refs := make([]store.TrialRef, len(held))
	for i, r := range held {
		refs[i] = store.TrialRef{Seq: r.Seq, ID: r.ID}
	}
	recs, err := s.st.TrialsAt(id, refs)
	if err != nil {
		return nil, -1, fmt.Errorf("sweep %s: read a page of trials: %w", id, err)
	}
	for i := range out {
		held[i].overlay(&recs[i])
		out[i].Trial = recs[i]
	}
	return out, next, nil
}
