package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

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
		{"running", sweepOf(running, &pb.Progress{Total: 10, Pending: 4, Leased: 2, Done: 4, ResultsPerSecond: 2, EtaSeconds: 3}), "running", "2.0", "3s", 0},
		{"running, failures", sweepOf(running, &pb.Progress{Total: 10, Pending: 4, Leased: 2, Done: 3, Failed: 1, ResultsPerSecond: 2, EtaSeconds: 3}), "running (1 failed)", "2.0", "3s", 0},
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
