package scheduler

import (
	"container/list"
	"sync"
	"time"
)

// MaxWorkers bounds the workers the registry remembers: beyond it, the one
// heard from longest ago is forgotten (a worker that calls again is
// remembered anew, its counts from zero).
const MaxWorkers = 10000

// WorkerInfo is what the scheduler knows of one worker.
type WorkerInfo struct {
	ID string
	// Address is where its calls come from, as the handler saw it ("" when
	// no handler said).
	Address string
	// LastSeen is its last lease request, heartbeat or report.
	LastSeen time.Time
	// Leases is how many leases it holds now.
	Leases int
	// Done counts its results that were stored, Failed its errors that were
	// recorded, since the scheduler started; EngineSeconds is the wall time
	// its stored results report.
	Done, Failed  int64
	EngineSeconds float64
}

// workers is the registry of the workers heard from, most recent first,
// bounded by MaxWorkers. It has a lock of its own: it is fed from Lease,
// Heartbeat and DeliverFrom outside the scheduler's lock. The zero value is
// ready.
type workers struct {
	mu   sync.Mutex
	max  int // 0: MaxWorkers
	byID map[string]*list.Element
	lru  list.List // of *WorkerInfo, front: most recently seen
}

// seenLocked records a call of worker id at now and returns its entry
// (callers hold w.mu).
func (w *workers) seenLocked(id string, now time.Time) *WorkerInfo {
	if w.byID == nil {
		w.byID = map[string]*list.Element{}
	}
	if e, ok := w.byID[id]; ok {
		info := e.Value.(*WorkerInfo)
		if now.After(info.LastSeen) {
			info.LastSeen = now
		}
		w.lru.MoveToFront(e)
		return info
	}
	info := &WorkerInfo{ID: id, LastSeen: now}
	w.byID[id] = w.lru.PushFront(info)
	limit := w.max
	if limit <= 0 {
		limit = MaxWorkers
	}
	for w.lru.Len() > limit {
		old := w.lru.Back()
		w.lru.Remove(old)
		delete(w.byID, old.Value.(*WorkerInfo).ID)
	}
	return info
}

// seen records a call of worker id at now.
func (w *workers) seen(id string, now time.Time) {
	w.mu.Lock()
	w.seenLocked(id, now)
	w.mu.Unlock()
}

// WorkerAddress records where worker id's calls come from (the handler
// knows, the scheduler does not); it counts as a call.
func (s *Scheduler) WorkerAddress(id, addr string) {
	s.workers.mu.Lock()
	s.workers.seenLocked(id, s.cfg.Now()).Address = addr
	s.workers.mu.Unlock()
}

// DeliverFrom is Deliver for the reports of one worker: it also counts, in
// the worker's entry, the results stored and the errors recorded.
func (s *Scheduler) DeliverFrom(worker string, ds []Delivery) ([]Receipt, error) {
	s.workers.seen(worker, s.cfg.Now())
	rs, err := s.Deliver(ds)
	if err != nil {
		return nil, err
	}
	var done, failed int64
	var engine float64
	for i, r := range rs {
		switch r.Verdict {
		case Accepted:
			done++
			engine += ds[i].Result.WallMS / 1000
		case FailureRecorded:
			failed++
		}
	}
	if done+failed > 0 {
		s.workers.mu.Lock()
		info := s.workers.seenLocked(worker, s.cfg.Now())
		info.Done += done
		info.Failed += failed
		info.EngineSeconds += engine
		s.workers.mu.Unlock()
	}
	return rs, nil
}

// Workers returns the workers heard from, most recently seen first, each
// with the leases it holds now.
func (s *Scheduler) Workers() []WorkerInfo {
	held := map[string]int{}
	s.mu.Lock()
	for t := range s.leased {
		held[t.worker()]++
	}
	s.mu.Unlock()
	s.workers.mu.Lock()
	defer s.workers.mu.Unlock()
	out := make([]WorkerInfo, 0, s.workers.lru.Len())
	for e := s.workers.lru.Front(); e != nil; e = e.Next() {
		info := *e.Value.(*WorkerInfo)
		info.Leases = held[info.ID]
		out = append(out, info)
	}
	return out
}
