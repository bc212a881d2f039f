package fakeclock_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// Tick returns only once the loop has finished handling the tick, as of the
// clock's current time.
func TestTickWaitsForTheLoop(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	var handled atomic.Int64
	var last atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case now := <-clk.Ticks():
				time.Sleep(time.Millisecond) // a slow pass: Tick must still wait for it
				last.Store(now.UnixNano())
				handled.Add(1)
			}
		}
	}()
	start := clk.Now()
	clk.Advance(time.Minute)
	clk.Tick(t)
	if handled.Load() < 1 || last.Load() != start.Add(time.Minute).UnixNano() {
		t.Fatalf("after Tick: %d passes, last at %v; want one finished at %v", handled.Load(), time.Unix(0, last.Load()), start.Add(time.Minute))
	}
	close(stop)
	<-done
}
