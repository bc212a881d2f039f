package scheduler

import (
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// A trial whose lease expired is the next one leased, ahead of the trials
// that never ran: it has waited its turn once already.
func TestExpiredTrialIsLeasedFirst(t *testing.T) {
	t.Parallel()
	clk := fakeclock.New()
	s := newTestScheduler(t, nil, clk, Config{LeaseTTL: 10 * time.Second})
	submit(t, s, fourTrials)
	dead := lease(t, s, 2) // the worker holding these dies
	tickAfter(t, s, clk, 10*time.Second)
	got := lease(t, s, 4)
	if len(got) != 4 || got[0].Trial != dead[0].Trial || got[1].Trial != dead[1].Trial || got[0].Attempt != 2 {
		var ids []string
		for _, l := range got {
			ids = append(ids, l.Trial)
		}
		t.Fatalf("after expiry leased %v, want the expired %s, %s first (attempt 2)", ids, dead[0].Trial, dead[1].Trial)
	}
}
