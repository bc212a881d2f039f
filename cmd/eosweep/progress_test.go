package main

import (
	"bytes"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// A sweep of 5 η × 2 seeds with 2 refinement rounds: at most 10 + 2·2 trials.
const refinedSpec = "name: r\nmodel: single\ngrid: {eta: [1, 2, 3, 4, 5], seed: [0, 1]}\nparams: {steps: 10}\nboundary: {refine: {rounds: 2, tolerance: 0.01}}\n"

// updates is a refined sweep's progress: the grid, then refinement adding
// trials (which would move done/total backwards), then the end.
func updates() []*pb.Sweep {
	at := func(round int32, total, done, failed int64, state pb.SweepState) *pb.Sweep {
		return &pb.Sweep{Id: "s1", State: state, Round: round, MaxRounds: 2, SpecYaml: refinedSpec,
			Progress: &pb.Progress{Total: total, Done: done, Failed: failed, Pending: total - done - failed, ResultsPerSecond: 4, Eta: durationpb.New(2 * time.Second)}}
	}
	return []*pb.Sweep{
		at(0, 10, 0, 0, running), at(0, 10, 5, 0, running), at(0, 10, 9, 1, running),
		at(1, 12, 10, 1, running), at(1, 12, 11, 1, running), at(2, 14, 12, 1, running), at(2, 14, 13, 1, done),
	}
}

var percentRE = regexp.MustCompile(`percent=([0-9.]+)`)

// Without a terminal, progress is plain log lines — no carriage returns or
// escape codes — at most one per interval and one per new round, whose
// percentage never goes backwards as refinement adds trials.
func TestProgressWithoutTerminal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	clock := time.Unix(1000, 0)
	log := slog.New(slog.NewTextHandler(&out, nil))
	v := newProgressView(&out, log, updates()[0])
	v.now = func() time.Time { return clock }
	v.start = clock
	if v.tty || v.bound != 14 {
		t.Fatalf("tty %v, bound %d; want false, 14", v.tty, v.bound)
	}
	for i, s := range updates() {
		if i < len(updates())-1 {
			v.update(s)
		} else {
			v.finish(s, 13)
		}
		clock = clock.Add(3 * time.Second)
	}
	text := out.String()
	if strings.ContainsAny(text, "\r\033") {
		t.Fatalf("control characters in non-terminal output:\n%q", text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	// Rounds 0, 1, 2 start a line each; 10 s pass in round 0 once (at 9 s: no);
	// the end is one more.
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (one per round, the end):\n%s", len(lines), text)
	}
	last := -1.0
	for _, l := range lines {
		m := percentRE.FindStringSubmatch(l)
		if m == nil || !strings.Contains(l, "msg=progress") {
			t.Fatalf("line %q is not a progress log line", l)
		}
		p, _ := strconv.ParseFloat(m[1], 64)
		if p < last {
			t.Errorf("percentage went back from %v to %v:\n%s", last, p, text)
		}
		last = p
	}
	if last != 100 || !strings.Contains(lines[3], "average_results_per_second=0.7") || !strings.Contains(lines[3], "elapsed=18s") {
		t.Errorf("last line %q: want 100%%, 13 results in 18 s on average", lines[3])
	}
}

// On a terminal the line is redrawn in place and ends with the run's average.
func TestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	clock := time.Unix(1000, 0)
	v := newProgressView(&out, slog.New(slog.DiscardHandler), updates()[0])
	v.tty, v.now, v.start = true, func() time.Time { return clock }, clock
	for _, s := range updates()[:6] {
		v.update(s)
	}
	clock = clock.Add(5 * time.Second)
	v.finish(updates()[6], 13)
	frames := strings.Split(out.String(), "\r\033[K")
	if len(frames) != 8 { // "" before the first, 6 updates, the final line
		t.Fatalf("%d frames:\n%q", len(frames), out.String())
	}
	for i, want := range map[int]string{
		1: "  0.0%  round 0 of 2  0/10 trials (at most 14)  4.0 trials/s  ETA 2s",
		4: " 78.6%  round 1 of 2  11/12 trials (at most 14), 1 failed  4.0 trials/s  ETA 2s",
		7: "100.0%  round 2 of 2  14/14 trials in 5s (2.6 trials/s on average)\n",
	} {
		if frames[i] != want {
			t.Errorf("frame %d = %q, want %q", i, frames[i], want)
		}
	}
}

// The progress bound counts every boundary metric's refinement: each round
// bisects every metric's bracket, so a sweep of two metrics may add two η
// per seed and group (the percentage must never go backwards).
func TestTrialBoundCountsMetrics(t *testing.T) {
	t.Parallel()
	const base = "name: b\nmodel: single\ngrid: {eta: {logspace: [0.5, 8, 8]}, x0: [1.5, 2], seed: [0, 1, 2]}\n"
	for _, c := range []struct {
		boundary string
		want     int64
	}{
		{"boundary: {refine: {rounds: 3, tolerance: 0.01}}\n", 48 + 3*6},
		{"boundary: {refine: {rounds: 3, tolerance: 0.01}, metrics: [final_bias, max_eos_ratio]}\n", 48 + 3*6*2},
	} {
		if got := trialBound(base + c.boundary); got != c.want {
			t.Errorf("%s: trialBound = %d, want %d", c.boundary, got, c.want)
		}
	}
}
