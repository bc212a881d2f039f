package dashboard

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

// analystSetup is an analyst over a fake sweep of testSpec on a fake clock.
func analystSetup(t *testing.T) (*fakeSource, *analyst, *fakeclock.Clock, []store.Trial) {
	t.Helper()
	src := newFakeSource()
	trials := specTrials(t, "s1", testSpec)
	src.addSweep(t, "s1", testSpec, trials)
	clk := fakeclock.New()
	return src, newAnalyst(src, clk.Now, time.Second, 4), clk, trials
}

// finishTrials marks trials [from, to) of s1 done with their engine results.
func finishTrials(t *testing.T, src *fakeSource, trials []store.Trial, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		r := runTrial(t, "single", trials[i])
		src.set("s1", i, store.Done, &r)
	}
}

func snap(t *testing.T, src *fakeSource, a *analyst) *snapshot {
	t.Helper()
	info, err := src.Sweep("s1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.get(info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The analysis is recomputed only when the sweep changed and AnalyseEvery
// has passed since the last, and each refresh reads only the new results.
func TestAnalysisThrottled(t *testing.T) {
	t.Parallel()
	src, a, clk, trials := analystSetup(t)
	finishTrials(t, src, trials, 0, 5)
	check := func(when string, s *snapshot, version, done, trialReads, resultReads int) {
		t.Helper()
		tr, rr := src.reads()
		if s.version != version || s.done != done || tr != trialReads || rr != resultReads {
			t.Errorf("%s: version %d, %d done, %d trial reads, %d results read; want %d, %d, %d, %d",
				when, s.version, s.done, tr, rr, version, done, trialReads, resultReads)
		}
	}
	check("first look", snap(t, src, a), 1, 5, 1, 5)
	check("unchanged", snap(t, src, a), 1, 5, 1, 5)

	finishTrials(t, src, trials, 5, 10)
	check("changed at once", snap(t, src, a), 1, 5, 1, 5)
	clk.Advance(999 * time.Millisecond)
	check("changed, 999 ms on", snap(t, src, a), 1, 5, 1, 5)
	clk.Advance(time.Millisecond)
	check("changed, 1 s on", snap(t, src, a), 2, 10, 2, 10) // the 5 new results only

	clk.Advance(time.Hour)
	check("an hour unchanged", snap(t, src, a), 2, 10, 2, 10)

	// A lease changes what the groups lack, not the figures: the trials are
	// read and analysed again, the figures kept.
	before := snap(t, src, a)
	src.set("s1", 10, store.Leased, nil)
	clk.Advance(time.Second)
	s := snap(t, src, a)
	check("a lease", s, 3, 10, 3, 10)
	if s.figures != before.figures {
		t.Error("a lease dropped the figures")
	}
	if n := marked(s, "leased"); n != 1 {
		t.Errorf("%d leased trials marked missing, want 1", n)
	}
}

// marked counts the groups' missing marks in a state.
func marked(s *snapshot, state string) int {
	n := 0
	for _, g := range s.groups {
		for _, m := range g.Missing {
			if m.State == state {
				n++
			}
		}
	}
	return n
}

// After a slow refresh the next waits four times as long.
func TestAnalysisSlowdown(t *testing.T) {
	t.Parallel()
	src, a, clk, trials := analystSetup(t)
	src.onTrials = func() { clk.Advance(2 * time.Second) } // each read takes 2 s
	finishTrials(t, src, trials, 0, 2)
	if s := snap(t, src, a); s.took != 2*time.Second {
		t.Fatalf("took %v", s.took)
	}
	finishTrials(t, src, trials, 2, 4)
	clk.Advance(8*time.Second - time.Millisecond)
	if s := snap(t, src, a); s.version != 1 {
		t.Errorf("7.999 s after a 2 s refresh: version %d, want 1", s.version)
	}
	clk.Advance(time.Millisecond)
	if s := snap(t, src, a); s.version != 2 || s.done != 4 {
		t.Errorf("8 s after a 2 s refresh: version %d with %d done, want 2 with 4", s.version, s.done)
	}
}

// A result the scheduler counts but the store has not written yet is
// picked up by a later refresh, without another change notice.
func TestAnalysisCatchesUp(t *testing.T) {
	t.Parallel()
	src, a, clk, trials := analystSetup(t)
	finishTrials(t, src, trials, 0, 3)
	src.set("s1", 3, store.Done, nil) // DONE, result not durable yet
	if s := snap(t, src, a); s.done != 3 {
		t.Fatalf("done %d, want 3", s.done)
	}
	r := runTrial(t, "single", trials[3])
	src.mu.Lock()
	src.results[trials[3].ID] = r // written, no notice
	src.mu.Unlock()
	clk.Advance(time.Second)
	if s := snap(t, src, a); s.done != 4 || s.version != 2 {
		t.Errorf("after the write: %d done (version %d), want 4 (version 2)", s.done, s.version)
	}
}

// While a refresh runs, other readers get the last snapshot at once; only
// a sweep's very first refresh is waited for.
func TestAnalysisOneRefreshAtATime(t *testing.T) {
	t.Parallel()
	src, a, clk, trials := analystSetup(t)
	finishTrials(t, src, trials, 0, 2)
	first := snap(t, src, a)
	finishTrials(t, src, trials, 2, 4)
	clk.Advance(time.Second)

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	src.onTrials = func() { once.Do(func() { close(entered); <-release }) }
	done := make(chan *snapshot)
	go func() { done <- snap(t, src, a) }()
	<-entered
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s := snap(t, src, a); s != first {
				t.Errorf("during the refresh: version %d, want the first snapshot", s.version)
			}
		}()
	}
	wg.Wait()
	close(release)
	if s := <-done; s.version != 2 {
		t.Errorf("the refresh: version %d", s.version)
	}
	if tr, _ := src.reads(); tr != 2 {
		t.Errorf("%d trial reads, want 2", tr)
	}
}

// Every group is marked with what it lacks, a group with no finished trial
// too; kept results lose their trajectory unless it is needed.
func TestAnalysisMissingAndLean(t *testing.T) {
	t.Parallel()
	src, a, _, trials := analystSetup(t)
	// testSpec's grid has x0 fastest: even trials are x0=1, odd x0=2.
	for i := 0; i < len(trials); i += 2 {
		r := runTrial(t, "single", trials[i])
		src.set("s1", i, store.Done, &r)
	}
	src.set("s1", 1, store.Failed, nil)
	src.set("s1", 3, store.Leased, nil)
	s := snap(t, src, a)
	if len(s.groups) != 2 || s.groups[0].Incomplete || !s.groups[1].Incomplete || s.groups[1].Trials != 0 {
		t.Fatalf("groups %+v: want x0=1 complete, x0=2 without a finished trial", s.groups)
	}
	if f, l, p := marked(s, "failed"), marked(s, "leased"), marked(s, "pending"); f != 1 || l != 1 || p != 7 {
		t.Errorf("missing marks: %d failed, %d leased, %d pending; want 1, 1, 7", f, l, p)
	}
	if s.data == nil || len(s.data.Groups) != 2 {
		t.Fatalf("the figures have no data, or not both groups")
	}
	for _, name := range []string{figPhase, figOverview, figGroup + "0", figGroup + "1"} {
		if _, err := s.figure(name, time.Now); err != nil && name != figGroup+"1" {
			t.Errorf("figure %s: %v", name, err)
		}
	}
	for _, tr := range s.data.Trials {
		if tr.Result.Trajectory != nil {
			t.Fatalf("a kept result has its trajectory: %v", tr.Params)
		}
	}
	old := engine.Result{FinalBias: -1, Trajectory: []engine.Point{{Step: 1, Sharpness: 1}}}
	if got := store.Summary(old); len(got.Trajectory) != 1 {
		t.Error("a result without max_eos_ratio_after_init lost the trajectory the figures take it from")
	}
}

// The analyst keeps a bounded number of sweeps, dropping the least
// recently used.
func TestAnalysisBounded(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	clk := fakeclock.New()
	a := newAnalyst(src, clk.Now, time.Second, 2)
	for i := range 3 {
		id := fmt.Sprintf("s%d", i)
		src.addSweep(t, id, testSpec, specTrials(t, id, testSpec))
		info, _ := src.Sweep(id)
		if _, err := a.get(info); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.sweeps["s0"]; len(a.sweeps) != 2 || ok {
		t.Errorf("kept %d sweeps (s0 kept: %v), want 2 without s0", len(a.sweeps), ok)
	}
}

// A page never waits for a refresh but a sweep's first, and that one only
// up to its bound; the refresh goes on and its result is kept.
func TestAnalysisCurrent(t *testing.T) {
	t.Parallel()
	src, a, clk, trials := analystSetup(t)
	finishTrials(t, src, trials, 0, 2)
	info, _ := src.Sweep("s1")
	hold := make(chan struct{})
	src.onTrials = func() { <-hold }
	if s, err := a.current(info, time.Nanosecond); s != nil || err != nil {
		t.Fatalf("first analysis held: %v, %v; want nil at once", s, err)
	}
	close(hold) // the refresh started above goes on
	first, err := a.get(info)
	if err != nil || first == nil || first.done != 2 {
		t.Fatalf("after the first refresh: %+v, %v", first, err)
	}

	finishTrials(t, src, trials, 2, 4)
	clk.Advance(time.Second)
	info, _ = src.Sweep("s1")
	hold = make(chan struct{})
	src.mu.Lock()
	src.onTrials = func() { <-hold }
	src.mu.Unlock()
	got := make(chan *snapshot, 1)
	go func() {
		s, _ := a.current(info, -1)
		got <- s
	}()
	select {
	case s := <-got:
		if s != first {
			t.Errorf("during a due refresh: version %d, want the first snapshot", s.version)
		}
	case <-time.After(10 * time.Second):
		close(hold)
		t.Fatal("a page waited for a due refresh")
	}
	close(hold)
	c := a.entry("s1")
	c.mu.Lock()
	done := c.wait
	c.mu.Unlock()
	<-done
	if s, _ := c.result(); s.done != 4 || s.version != 2 {
		t.Errorf("the background refresh: %d done, version %d; want 4, 2", s.done, s.version)
	}
}
