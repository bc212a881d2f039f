// Package fakeclock is a manual clock for tests: its time moves only on
// Advance, and its tick channel delivers a tick only on Tick, so a test
// decides both what time it is and when a ticker-driven loop runs.
package fakeclock

import (
	"sync"
	"testing"
	"time"
)

// Clock is a manual clock. Its zero value is not usable; call New.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	ticks chan time.Time
}

// New returns a clock at a fixed instant (Unix 1 000 000 s).
func New() *Clock { return &Clock{now: time.Unix(1_000_000, 0), ticks: make(chan time.Time)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Ticks is the tick channel to hand to the loop under test (for example
// scheduler.Config.Ticks). It is unbuffered and delivers only on Tick.
func (c *Clock) Ticks() <-chan time.Time { return c.ticks }

// Tick delivers one tick and returns once the loop has finished handling it.
// A loop that handles its ticks one at a time has finished with a tick when it
// takes the next, so Tick sends the current time twice; the loop then runs
// twice at the same time, and a second pass of a lease-expiry or timer loop at
// an unchanged time finds nothing new to do. Tick fails the test if the loop
// does not take a tick within 10 s (it has stopped or is stuck).
func (c *Clock) Tick(t testing.TB) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for range 2 {
		select {
		case c.ticks <- c.Now():
		case <-timeout.C:
			t.Fatal("fakeclock: no loop took the tick within 10 s")
		}
	}
}
