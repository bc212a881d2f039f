package worker

import (
	"sync"
	"time"
)

// Automatic prefetch (Config.Prefetch 0): how deep each slot's queue is.
const (
	// MaxAutoPrefetch bounds the automatic depth per slot.
	MaxAutoPrefetch = 4096
	// MaxHeldBytes bounds the encoded leases held at once (about 200 bytes
	// each: some 40,000 leases).
	MaxHeldBytes = 8 << 20
	// prefetchCover is how many lease round trips a slot's queue covers: a
	// refill (asked for when half the queue is gone) arrives long before
	// the slot runs dry.
	prefetchCover = 4
)

// pacer chooses the depth of the lease queue from what it observes: the
// trials' run time and the coordinator's round-trip time, each an
// exponentially weighted moving average (weight 1/8 for each new sample).
// A slot's queue holds enough trials to cover prefetchCover round trips:
// depth = ⌈prefetchCover × rtt / trial⌉, from 1 (trials longer than four
// round trips: nothing leased ahead, as with Prefetch 1) to MaxAutoPrefetch
// (microsecond trials: thousands of trials per call), and never more leases
// in all than MaxHeldBytes holds. The round trips include the coordinator's
// durable commit of reports: a slow disk makes for deeper queues.
type pacer struct {
	mu         sync.Mutex
	trial, rtt time.Duration // 0 until measured
	leaseBytes int           // average encoded lease, 0 until measured
}

func ewma(avg, sample time.Duration) time.Duration {
	if avg == 0 {
		return sample
	}
	return avg + (sample-avg)/8
}

// trialRan records one trial's run time.
func (p *pacer) trialRan(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trial = ewma(p.trial, max(d, time.Microsecond))
}

// roundTrip records the time of a call the coordinator answered at once.
func (p *pacer) roundTrip(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rtt = ewma(p.rtt, max(d, time.Microsecond))
}

// leased records the encoded size of a lease.
func (p *pacer) leased(bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leaseBytes == 0 {
		p.leaseBytes = bytes
	}
	p.leaseBytes += (bytes - p.leaseBytes) / 8
}

// maxHeld returns how many leases fit in MaxHeldBytes.
func (p *pacer) maxHeld() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return MaxHeldBytes / max(p.leaseBytes, 64)
}

// depth returns the trials per slot to hold (running and queued).
func (p *pacer) depth() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trial == 0 || p.rtt == 0 {
		return 1
	}
	d := (prefetchCover*p.rtt + p.trial - 1) / p.trial
	return int(min(max(d, 1), MaxAutoPrefetch))
}
