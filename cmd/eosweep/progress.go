package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/eosweep/eosweep/coordinator/spec"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// isTerminal reports whether w is a terminal (progress is redrawn in place
// there, logged as plain lines anywhere else).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// trialBound is the most trials a sweep of this spec can hold: its grid,
// and for every refinement round at most one new η for each seed of each
// group and boundary metric (what boundary.Refine plans, every metric's
// bracket bisected). 0 when the spec does not parse.
func trialBound(specYAML string) int64 {
	sp, err := spec.ParseStored([]byte(specYAML))
	if err != nil {
		return 0
	}
	trials := sp.Size() // counted, not expanded
	etas := 1
	for _, a := range sp.Grid {
		if a.Name == "eta" {
			etas = len(a.Values)
		}
	}
	perRound := (trials + etas - 1) / etas * max(1, len(sp.Boundary.Metrics))
	return int64(trials + sp.Boundary.Refine.Rounds*perRound)
}

// progressView shows a running sweep's progress. On a terminal it redraws
// one line in place; anywhere else (a file, a pipe, a CI log) it writes a
// plain log line at most every interval, at each new round and at the end,
// and never a carriage return. The percentage is of the most trials the
// sweep can hold (trialBound), so refinement adding trials never moves it
// backwards; the line says which round it is and that bound.
type progressView struct {
	w        io.Writer
	tty      bool
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	start   time.Time
	bound   int64
	logged  time.Time // last log line (not on a terminal)
	round   int32
	percent float64 // largest shown: never goes backwards
	drawn   bool    // a terminal line is on screen
}

func newProgressView(w io.Writer, log *slog.Logger, sw *pb.Sweep) *progressView {
	v := &progressView{w: w, tty: isTerminal(w), log: log, interval: 10 * time.Second, now: time.Now, round: -1}
	v.start = v.now()
	v.bound = trialBound(sw.GetSpecYaml())
	return v
}

// settled counts the trials that will not run again in this sweep.
func settled(p *pb.Progress) int64 { return p.GetDone() + p.GetFailed() }

// percentOf returns the progress percentage of s, never below one shown before.
func (v *progressView) percentOf(s *pb.Sweep) float64 {
	p := s.GetProgress()
	bound := max(v.bound, p.GetTotal())
	pct := 100.0
	if s.GetState() == pb.SweepState_SWEEP_STATE_RUNNING && bound > 0 {
		pct = math.Min(100*float64(settled(p))/float64(bound), 99.9)
	}
	v.percent = math.Max(v.percent, pct)
	return v.percent
}

// line renders one progress line of s.
func (v *progressView) line(s *pb.Sweep) string {
	p := s.GetProgress()
	pct := v.percentOf(s)
	bound := max(v.bound, p.GetTotal())
	text := fmt.Sprintf("%5.1f%%  round %d of %d  %d/%d trials", pct, s.GetRound(), s.GetMaxRounds(), settled(p), p.GetTotal())
	if bound > p.GetTotal() && s.GetState() == pb.SweepState_SWEEP_STATE_RUNNING {
		text += fmt.Sprintf(" (at most %d)", bound)
	}
	if n := p.GetFailed(); n > 0 {
		text += fmt.Sprintf(", %d failed", n)
	}
	if rate, ok := resultRate(s); ok && s.GetState() == pb.SweepState_SWEEP_STATE_RUNNING {
		text += fmt.Sprintf("  %.1f trials/s", rate)
	}
	if eta := etaText(s); eta != "-" {
		text += "  ETA " + eta
	}
	return text
}

// update shows s.
func (v *progressView) update(s *pb.Sweep) {
	if v.tty {
		fmt.Fprint(v.w, "\r\033[K"+v.line(s))
		v.drawn = true
		return
	}
	now := v.now()
	if s.GetRound() == v.round && now.Sub(v.logged) < v.interval {
		v.percentOf(s) // keep the floor current
		return
	}
	v.round, v.logged = s.GetRound(), now
	p := s.GetProgress()
	v.log.Info("progress", "sweep", s.GetId(), "percent", math.Round(10*v.percentOf(s))/10, "round", s.GetRound(),
		"max_rounds", s.GetMaxRounds(), "finished", settled(p), "total", p.GetTotal(), "at_most", max(v.bound, p.GetTotal()),
		"failed", p.GetFailed(), "results_per_second", math.Round(10*p.GetResultsPerSecond())/10, "eta", etaText(s))
}

// finish ends the progress output after the last update, with the run's
// average rate: results stored by this run over its wall time.
func (v *progressView) finish(s *pb.Sweep, ranNow int64) {
	elapsed := v.now().Sub(v.start)
	avg := 0.0
	if elapsed > 0 {
		avg = float64(ranNow) / elapsed.Seconds()
	}
	if v.tty {
		if v.drawn {
			fmt.Fprint(v.w, "\r\033[K")
		}
		p := s.GetProgress()
		fmt.Fprintf(v.w, "%5.1f%%  round %d of %d  %d/%d trials in %s (%.1f trials/s on average)\n", v.percentOf(s), s.GetRound(),
			s.GetMaxRounds(), settled(p), p.GetTotal(), elapsed.Round(100*time.Millisecond), avg)
		return
	}
	p := s.GetProgress()
	v.log.Info("progress", "sweep", s.GetId(), "percent", math.Round(10*v.percentOf(s))/10, "round", s.GetRound(),
		"max_rounds", s.GetMaxRounds(), "finished", settled(p), "total", p.GetTotal(), "failed", p.GetFailed(),
		"elapsed", elapsed.Round(100*time.Millisecond), "average_results_per_second", math.Round(10*avg)/10)
}
