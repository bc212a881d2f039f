package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/eosweep/eosweep/coordinator/store"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// finishedAt gives the sweep a creation time and a finish time after it.
func finishedAt(s *pb.Sweep, after time.Duration) *pb.Sweep {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Created, s.Finished = timestamppb.New(created), timestamppb.New(created.Add(after))
	return s
}

func sweepOf(state pb.SweepState, p *pb.Progress) *pb.Sweep {
	return &pb.Sweep{Id: "abc123", Name: "n", Model: "single", State: state, Progress: p}
}

var (
	running   = pb.SweepState_SWEEP_STATE_RUNNING
	done      = pb.SweepState_SWEEP_STATE_DONE
	cancelled = pb.SweepState_SWEEP_STATE_CANCELLED
)

// The status table's columns add up to its total, the state says what the
// counts add to it, and ETA and rate say what they can: "no workers" when
// work waits and nothing takes it, no live rate for a finished sweep.
func TestStatusTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		sweep       *pb.Sweep
		state       string
		rate, eta   string
		cancelledCt int64
	}{
		{"done, complete", sweepOf(done, &pb.Progress{Total: 6, Done: 6, ResultsPerSecond: 3.2}), "done", "-", "-", 0},
		{"done with failures", sweepOf(done, &pb.Progress{Total: 27, Done: 25, Failed: 2}), "done (2 failed)", "-", "-", 0},
		{"cancelled", sweepOf(cancelled, &pb.Progress{Total: 27, Done: 6, Failed: 1, Cancelled: 20}), "cancelled (6 done, 1 failed, 20 cancelled)", "-", "-", 20},
		{"cancelled with nothing left", sweepOf(cancelled, &pb.Progress{Total: 3, Done: 3}), "cancelled", "-", "-", 0},
		{"running", sweepOf(running, &pb.Progress{Total: 10, Pending: 4, Leased: 2, Done: 4, ResultsPerSecond: 2, Eta: durationpb.New(3 * time.Second)}), "running", "2.0", "3s", 0},
		{"running, failures", sweepOf(running, &pb.Progress{Total: 10, Pending: 4, Leased: 2, Done: 3, Failed: 1, ResultsPerSecond: 2, Eta: durationpb.New(3 * time.Second)}), "running (1 failed)", "2.0", "3s", 0},
		{"no workers", sweepOf(running, &pb.Progress{Total: 10, Pending: 10}), "running", "0.0", "no workers", 0},
		{"leased, no rate yet", sweepOf(running, &pb.Progress{Total: 10, Pending: 8, Leased: 2}), "running", "0.0", "-", 0},
		{"counted: no workers", sweepOf(running, &pb.Progress{Total: 10, Pending: 8, Leased: 2, Workers: new(int32(0))}), "running", "0.0", "no workers", 0},
		{"counted: one worker", sweepOf(running, &pb.Progress{Total: 10, Pending: 10, Workers: new(int32(1))}), "running", "0.0", "-", 0},
		{"finished: its average", finishedAt(sweepOf(done, &pb.Progress{Total: 30, Done: 30, ResultsPerSecond: 0.5}), 12*time.Second), "done", "2.5", "-", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := writeStatusTable(&buf, []*pb.Sweep{tc.sweep}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			head := strings.Fields(lines[0])
			// The state may hold spaces: read the numbers from the right.
			cells := strings.Fields(strings.Replace(lines[1], "no workers", "no-workers", 1))
			at := func(col string) string {
				for i := range head {
					if head[len(head)-1-i] == col {
						return cells[len(cells)-1-i]
					}
				}
				t.Fatalf("no column %s in %q", col, lines[0])
				return ""
			}
			num := func(col string) int64 {
				n, err := strconv.ParseInt(at(col), 10, 64)
				if err != nil {
					t.Fatalf("%s: %v", col, err)
				}
				return n
			}
			if sum := num("PENDING") + num("LEASED") + num("DONE") + num("FAILED") + num("CANCELLED"); sum != num("TOTAL") {
				t.Errorf("columns add to %d of %d:\n%s", sum, num("TOTAL"), buf.String())
			}
			if num("CANCELLED") != tc.cancelledCt {
				t.Errorf("CANCELLED %d, want %d", num("CANCELLED"), tc.cancelledCt)
			}
			if !strings.Contains(lines[1], "  "+tc.state+"  ") {
				t.Errorf("row %q lacks state %q", lines[1], tc.state)
			}
			if got := rateText(tc.sweep); got != tc.rate {
				t.Errorf("rate %q, want %q", got, tc.rate)
			}
			if got := etaText(tc.sweep); got != tc.eta {
				t.Errorf("eta %q, want %q", got, tc.eta)
			}
			if o := toStatus(tc.sweep); (o.ResultsPerSecond == nil) != (tc.rate == "-") {
				t.Errorf("json results_per_second %v for state %v", o.ResultsPerSecond, tc.sweep.GetState())
			}
		})
	}
}

// status --watch follows a sweep until it finishes. Without a terminal it
// prints a line when the sweep changes, at most every interval, and always
// the last state; on a terminal it redraws the table in place.
func TestStatusWatch(t *testing.T) {
	t.Parallel()
	clock := time.Unix(1000, 0)
	var out bytes.Buffer
	v := &statusWatch{w: &out, every: 2 * time.Second, now: func() time.Time { return clock }}
	for i, s := range updates() {
		if err := v.show(s); err != nil {
			t.Fatal(err)
		}
		if err := v.show(s); err != nil { // an idle resend changes nothing
			t.Fatal(err)
		}
		clock = clock.Add(time.Duration(i%2+1) * time.Second)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if strings.ContainsAny(out.String(), "\r\033") || len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (changes at most every 2 s, and the end):\n%q", len(lines), out.String())
	}
	if want := "s1 done (1 failed) round 2/2: 14 total, 0 pending, 0 leased, 13 done, 1 failed, 0 cancelled; - results/s, ETA -"; lines[3] != want {
		t.Errorf("last line %q, want %q", lines[3], want)
	}

	out.Reset()
	v = &statusWatch{w: &out, tty: true, every: 2 * time.Second, now: time.Now}
	for _, s := range updates()[:3] {
		if err := v.show(s); err != nil {
			t.Fatal(err)
		}
	}
	if frames := strings.Split(out.String(), "\033[2A\033[J"); len(frames) != 3 || strings.Count(frames[2], "\n") != 2 {
		t.Errorf("terminal frames:\n%q", out.String())
	}
}

// --watch needs a SWEEP and a coordinator.
func TestStatusWatchRefusals(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"status --watch --db x.db":   "give the SWEEP",
		"status abc --watch --db %s": "needs --coordinator",
	} {
		a := strings.Fields(args)
		if a[len(a)-1] == "%s" {
			a[len(a)-1] = storeWithOneSweep(t)
		}
		if _, _, err := execute(context.Background(), a...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}

// storeWithOneSweep writes a stopped store holding sweep "abc".
func storeWithOneSweep(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "s.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Apply(must(store.SweepOp(store.Sweep{ID: "abc", Name: "three", Model: "single", SpecYAML: threeEtas, State: store.SweepRunning}))); err != nil {
		t.Fatal(err)
	}
	return db
}
