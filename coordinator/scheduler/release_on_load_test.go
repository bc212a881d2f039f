package scheduler

import (
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/fakeclock"
)

// With ReleaseOnLoad (an embedded run restarted), the trials the previous
// process held are leasable at once, with no hold for re-adoption, as the
// next attempt; finished trials are not handed out again.
func TestReleaseOnLoad(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	clk := fakeclock.New()
	st := openStore(t, path)
	s, err := New(st, Config{LeaseTTL: time.Hour, Now: clk.Now, Ticks: clk.Ticks()})
	if err != nil {
		t.Fatal(err)
	}
	sw := submit(t, s, fourTrials)
	ls := lease(t, s, 3)
	if r := deliverOne(t, s, ls[0], goodResult(-1)); r.Verdict != Accepted {
		t.Fatal(r)
	}
	s.Close()
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	s = newTestScheduler(t, st, clk, Config{LeaseTTL: time.Hour, ReleaseOnLoad: true})
	if p := progress(t, s, sw.ID); p.Done != 1 || p.Pending != 3 {
		t.Fatalf("after restart %+v", p)
	}
	again := lease(t, s, 4) // no clock advance: an hour's hold would give one trial
	if len(again) != 3 {
		t.Fatalf("leased %d trials at once, want the 3 unfinished ones: %+v", len(again), again)
	}
	for _, l := range again {
		if l.Trial == ls[0].Trial {
			t.Errorf("finished trial %s leased again", l.Trial)
		}
		if (l.Trial == ls[1].Trial || l.Trial == ls[2].Trial) && l.Attempt != 2 {
			t.Errorf("released trial %s on attempt %d, want 2", l.Trial, l.Attempt)
		}
	}
}
