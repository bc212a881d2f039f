package scheduler

import "slices"

// runQueue holds the pending trials of the sweeps queued on it, each sweep's
// in a FIFO of its own (sweepState.queue), and hands them out in weighted
// round robin: each sweep in turn gives up to its spec's priority trials, so
// running sweeps share the workers instead of the later waiting behind the
// earlier. Stale entries (a trial no longer leasable) are skipped. Callers
// hold s.mu.
type runQueue struct {
	ring  []*sweepState // sweeps with queued trials, in turn order
	next  int           // index in ring of the sweep whose turn it is
	given int           // trials the sweep at next has given in this turn
}

func (q *runQueue) empty() bool { return len(q.ring) == 0 }

// push queues t at the back of its sweep's FIFO and reports whether q was empty.
func (q *runQueue) push(t *trialState) (wasEmpty bool) {
	wasEmpty = q.empty()
	sw := t.sweep
	sw.queue = append(sw.queue, t)
	q.join(sw)
	return wasEmpty
}

// pushFront queues ts, all of sweep sw, at the head of its FIFO in the order
// given and reports whether q was empty.
func (q *runQueue) pushFront(sw *sweepState, ts []*trialState) (wasEmpty bool) {
	wasEmpty = q.empty()
	sw.queue = append(slices.Clip(ts), sw.queue...)
	q.join(sw)
	return wasEmpty
}

// join puts sw in the ring (last in turn) if it is not there.
func (q *runQueue) join(sw *sweepState) {
	if !sw.inRing {
		sw.inRing = true
		q.ring = append(q.ring, sw)
	}
}

// pop takes the next trial that ok accepts, dropping the entries it refuses
// on the way; nil when none is left.
func (q *runQueue) pop(ok func(*trialState) bool) *trialState {
	for len(q.ring) > 0 {
		if q.next >= len(q.ring) {
			q.next, q.given = 0, 0
		}
		sw := q.ring[q.next]
		for len(sw.queue) > 0 {
			t := sw.queue[0]
			sw.queue[0] = nil
			sw.queue = sw.queue[1:]
			t.queued = false
			if !ok(t) {
				continue // stale entry
			}
			if len(sw.queue) == 0 {
				q.leave()
			} else if q.given++; q.given >= max(sw.spec.Priority, 1) {
				q.next, q.given = q.next+1, 0
			}
			return t
		}
		q.leave()
	}
	return nil
}

// leave takes the sweep at next, whose FIFO is empty, out of the ring; the
// sweep after it has the turn.
func (q *runQueue) leave() {
	sw := q.ring[q.next]
	sw.inRing = false
	sw.queue = nil // let the backing array go
	q.ring = slices.Delete(q.ring, q.next, q.next+1)
	q.given = 0
	if len(q.ring) == 0 {
		q.ring, q.next = nil, 0
	}
}
