package dashboard

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/report"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// analyst keeps, per sweep, the boundary analysis of its finished trials
// and the figures drawn from it, and recomputes them only when the sweep has
// changed and the last computation is old enough: at most once per every,
// and never more often than slowdown times the last computation took (so
// that a sweep of 100,000 trials costs a bounded share of a core however
// many pages watch it). Results are read incrementally: each refresh reads
// only the results of trials that finished since the last one.
type analyst struct {
	src      Source
	now      func() time.Time
	every    time.Duration
	maxKept  int // sweeps kept; the least recently used is dropped
	slowdown int

	mu     sync.Mutex
	sweeps map[string]*sweepCache
}

// readChunk is how many results' summaries one read takes from the store.
const readChunk = 1024

// slowdown bounds the share of a core spent on analysis: after a
// computation of d, the next waits at least slowdown·d.
const slowdown = 4

func newAnalyst(src Source, now func() time.Time, every time.Duration, maxKept int) *analyst {
	return &analyst{src: src, now: now, every: every, maxKept: maxKept, slowdown: slowdown, sweeps: map[string]*sweepCache{}}
}

// sweepCache is one sweep's state in the analyst.
type sweepCache struct {
	mu      sync.Mutex // guards snap, busy, wait, used
	snap    *snapshot
	busy    bool          // a computation runs
	wait    chan struct{} // closed when it ends
	err     error         // of the last computation
	used    time.Time
	results map[string]engine.Result // lean results by trial id; only the computing goroutine touches it
}

// snapshot is a sweep's analysis as of one refresh. It is never modified
// once published, but for the figures, which are drawn on demand.
type snapshot struct {
	*analysed
	// at is when the refresh ended, took how long it took.
	at   time.Time
	took time.Duration
	// changed is the sweep's change notification as of the refresh's read.
	changed <-chan struct{}
	// doneSeen is how many DONE trials the scheduler counted at that read.
	doneSeen int
}

// analysed is the analysis of one set of trials (finished and missing);
// consecutive snapshots share it while no trial changes state.
type analysed struct {
	// version counts the analyses of the sweep (1 is the first).
	version int
	// key is what the analysis depends on (see setKey).
	key setKey
	// done is how many finished trials were analysed.
	done int
	// groups are the boundaries of every metric of the sweep side by side
	// (as GetBoundary gives them), each marked with what it lacks; nil
	// before the first finished trial.
	groups []boundary.Group
	// groupBy are the group axes.
	groupBy []string
	err     error // why the analysis failed (shown on the page)
	*figures
}

// setKey is what an analysis depends on: the finished trials (by count:
// a trial never leaves DONE) and how many trials are in each other state.
type setKey struct {
	done, total int
	missing     [store.NumTrialStates]int
}

func keyOf(trials []store.Trial, done int) setKey {
	k := setKey{done: done, total: len(trials)}
	for _, t := range trials {
		if t.State != store.Done && t.State.Valid() {
			k.missing[t.State]++
		}
	}
	return k
}

// figures are drawn from the analysis of the finished trials under the
// sweep's first metric (what eosweep report draws), so they stay while no
// trial finishes, however the missing ones move.
type figures struct {
	data *report.Data // nil without a finished trial

	mu   sync.Mutex
	figs map[string]figure
	drew time.Duration // time spent drawing (counts as the analysis' cost)
}

type figure struct {
	svg []byte
	err error
}

// get returns the sweep's current snapshot, refreshing it first when it is
// due (see analyst): the event streams call it, so that a watched sweep is
// kept current. While one refresh runs, others get the previous snapshot at
// once; only a sweep's first refresh is waited for.
func (a *analyst) get(info scheduler.SweepInfo) (*snapshot, error) {
	c := a.entry(info.Sweep.ID)
	for {
		s, start, done := a.claim(c, info)
		switch {
		case start:
			return a.run(c, info, s)
		case s != nil:
			return s, nil
		}
		<-done // the first refresh, by another caller
		if s, err := c.result(); s != nil || err != nil {
			return s, err
		}
	}
}

// current returns the sweep's latest snapshot at once, starting a refresh in
// the background when one is due: what pages call, so that no page view
// waits for an analysis but a sweep's first. That one is waited for up to
// wait (wait < 0: as long as it takes); when it takes longer, current
// returns nil and the refresh goes on (the page's stream shows its result).
func (a *analyst) current(info scheduler.SweepInfo, wait time.Duration) (*snapshot, error) {
	c := a.entry(info.Sweep.ID)
	s, start, done := a.claim(c, info)
	switch {
	case start && (s != nil || wait >= 0):
		go func() { _, _ = a.run(c, info, s) }()
	case start:
		return a.run(c, info, s)
	}
	if s != nil {
		return s, nil
	}
	if wait < 0 {
		<-done
		return c.result()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return c.result()
	case <-t.C:
		return nil, nil
	}
}

// claim returns c's snapshot and whether the caller is to refresh it (it is
// due and no refresh runs; the caller then must call run); done is closed
// when the refresh running or claimed ends.
func (a *analyst) claim(c *sweepCache, info scheduler.SweepInfo) (s *snapshot, start bool, done <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = a.now()
	s = c.snap
	if !c.busy && (s == nil || a.due(s, info)) {
		c.busy, c.wait, c.err = true, make(chan struct{}), nil
		return s, true, c.wait
	}
	return s, false, c.wait
}

// run refreshes a claimed cache and publishes the result. After an error
// the previous snapshot stays (and is returned, when there is one).
func (a *analyst) run(c *sweepCache, info scheduler.SweepInfo, prev *snapshot) (*snapshot, error) {
	ns, err := a.refresh(c, info, prev)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	close(c.wait)
	if err != nil {
		c.err = err
		if prev != nil {
			return prev, nil // keep showing the last good one
		}
		return nil, err
	}
	c.snap = ns
	return ns, nil
}

// result is the cache's snapshot, or the error of its first refresh.
func (c *sweepCache) result() (*snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap == nil {
		return nil, c.err
	}
	return c.snap, nil
}

// peek returns the sweep's snapshot as it is, refreshing it only when
// there is none yet: figures are drawn from the analysis their page showed
// (the page's event stream does the refreshing).
func (a *analyst) peek(info scheduler.SweepInfo) (*snapshot, error) {
	c := a.entry(info.Sweep.ID)
	c.mu.Lock()
	s := c.snap
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return a.get(info)
}

// due reports whether s should be refreshed now: the sweep changed since
// (or results counted then were not durable yet), and the throttle allows.
func (a *analyst) due(s *snapshot, info scheduler.SweepInfo) bool {
	changed := info.Progress.Done > s.done || info.Progress.Done != s.doneSeen
	if !changed {
		select {
		case <-s.changed:
			changed = true
		default:
		}
	}
	if !changed {
		return false
	}
	wait := max(a.every, time.Duration(a.slowdown)*(s.took+s.drawing()))
	return a.now().Sub(s.at) >= wait
}

// entry returns the sweep's cache, making room for it when needed.
func (a *analyst) entry(id string) *sweepCache {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.sweeps[id]; ok {
		return c
	}
	for len(a.sweeps) >= a.maxKept {
		oldest, at := "", time.Time{}
		for k, c := range a.sweeps {
			c.mu.Lock()
			used := c.used
			c.mu.Unlock()
			if oldest == "" || used.Before(at) {
				oldest, at = k, used
			}
		}
		delete(a.sweeps, oldest)
	}
	c := &sweepCache{results: map[string]engine.Result{}}
	a.sweeps[id] = c
	return c
}

// refresh reads the sweep's trials and the results that are new since
// prev, and analyses them again when a trial changed state.
func (a *analyst) refresh(c *sweepCache, info scheduler.SweepInfo, prev *snapshot) (*snapshot, error) {
	start := a.now()
	id := info.Sweep.ID
	trials, err := a.src.Trials(id)
	if err != nil {
		return nil, err
	}
	var fresh []store.Trial
	for _, t := range trials {
		if _, ok := c.results[t.ID]; !ok && t.State == store.Done {
			fresh = append(fresh, t)
		}
	}
	for len(fresh) > 0 { // in chunks, read without their trajectories
		n := min(len(fresh), readChunk)
		rs, err := a.src.Summaries(fresh[:n])
		if err != nil {
			return nil, fmt.Errorf("sweep %s: %w", id, err)
		}
		for k, r := range rs {
			c.results[k] = r
		}
		fresh = fresh[n:]
	}
	set := finished.Split(trials, c.results)
	s := &snapshot{changed: info.Changed, doneSeen: info.Progress.Done}
	key := keyOf(trials, len(set.Done))
	if prev != nil && prev.key == key && prev.err == nil {
		s.analysed = prev.analysed
	} else {
		var figs *figures
		if prev != nil && prev.done == len(set.Done) && prev.err == nil {
			figs = prev.figures
		}
		s.analysed = analyse(info, set, figs)
		s.key = key
		s.version = 1
		if prev != nil {
			s.version = prev.version + 1
		}
	}
	s.at = a.now()
	s.took = s.at.Sub(start)
	return s, nil
}

// analyse runs the boundary analysis of every metric of the sweep on its
// trials; figs, when given, are the figures of the same finished trials.
func analyse(info scheduler.SweepInfo, set finished.Set, figs *figures) *analysed {
	out := &analysed{done: len(set.Done), groupBy: info.Spec.Analysis().GroupBy, figures: figs}
	if out.figures == nil {
		out.figures = &figures{figs: map[string]figure{}}
	}
	as, err := finished.AnalyzeEach(info.Spec, set)
	switch {
	case errors.Is(err, finished.ErrNone):
		return out
	case err != nil:
		out.err = err
		return out
	}
	out.groups = boundary.SideBySide(as)
	if out.data == nil {
		d, err := report.NewData(as[0], report.Options{})
		if err != nil {
			out.err = err
			return out
		}
		out.data = d
	}
	return out
}

// Figure names the dashboard draws.
const (
	figPhase    = "phase"
	figOverview = "overview"
	figGroup    = "group-" // + the group's index
)

// figure returns one figure of the analysis as SVG (without embedded
// fonts), drawing it the first time it is asked for.
func (fs *figures) figure(name string, now func() time.Time) ([]byte, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.figs[name]; ok {
		return f.svg, f.err
	}
	start := now()
	svg, err := fs.draw(name)
	fs.drew += now().Sub(start)
	fs.figs[name] = figure{svg: svg, err: err}
	return svg, err
}

// drawing is the time spent drawing the figures so far.
func (fs *figures) drawing() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.drew
}

func (fs *figures) draw(name string) ([]byte, error) {
	an := fs
	if an.data == nil {
		return nil, errNoFigure
	}
	var f *report.Figure
	var err error
	switch {
	case name == figPhase:
		f, err = report.PhaseFigure(an.data, report.DoubleColumn)
	case name == figOverview:
		f, err = report.OverviewFigure(an.data, report.DoubleColumn)
	default:
		var gi int
		if _, serr := fmt.Sscanf(name, figGroup+"%d", &gi); serr != nil || fmt.Sprintf("%s%d", figGroup, gi) != name {
			return nil, errNoFigure
		}
		if gi < 0 || gi >= len(an.data.Groups) {
			return nil, errNoFigure
		}
		f, err = report.GroupFigure(an.data, gi, report.DoubleColumn)
	}
	if err != nil {
		return nil, fmt.Errorf("figure %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := f.RenderSVG(&buf, false); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errNoFigure is returned for a figure the analysis does not have.
var errNoFigure = errors.New("no such figure")
