package coordmetrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/metrics"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// value sums the counter, gauge or histogram count of family name over the
// samples whose labels include want; ok is false when no sample matches.
func value(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) (float64, bool) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	found := false
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, want) {
				continue
			}
			found = true
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, found
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
			n++
		}
	}
	return n == len(want)
}

const sweepSpec = "name: obs\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2, 2.5]}\nparams: {steps: 40}\n"

// A coordinator with a registry exports its own metrics: report outcomes
// counted where the scheduler decides them, rejected reports by reason,
// lease grants and per-sweep progress while the sweep runs (gone once it is
// done), connected workers, store commits, gRPC server metrics; no worker
// series.
func TestCoordinatorMetrics(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	_, conn := coordinatortest.Start(t, coordinator.Config{Metrics: reg,
		Scheduler: scheduler.Config{LeaseTTL: time.Minute, Refiner: noRefiner{}}})
	client := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	sub, err := client.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: sweepSpec})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetSweep().GetId()
	lease, err := client.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w1", MaxTrials: 4, Wait: durationpb.New(0)})
	if err != nil || len(lease.GetLeases()) != 4 {
		t.Fatalf("lease: %v, %v", lease, err)
	}
	ls := lease.GetLeases()
	result := &pb.TrialReport_Result{Result: wire.ResultToProto(enginetest.Result(40))}
	report := func(l *pb.Lease, token string, o any) *pb.TrialReport {
		r := &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: token}
		switch o := o.(type) {
		case *pb.TrialReport_Result:
			r.Outcome = o
		case *pb.TrialReport_Error:
			r.Outcome = o
		case *pb.TrialReport_Released:
			r.Outcome = o
		}
		return r
	}
	reports := []*pb.TrialReport{
		report(ls[0], ls[0].GetToken(), result),
		report(ls[0], ls[0].GetToken(), result),      // duplicate
		report(ls[1], "1.forged", result),            // token_mismatch
		report(ls[1], ls[1].GetToken(), nil),         // malformed: no outcome
		{SweepId: id, TrialId: "nope", Token: "1.x"}, // unknown trial (malformed too, but the trial is checked first)
		report(ls[2], ls[2].GetToken(), &pb.TrialReport_Error{Error: "boom"}),
		report(ls[3], ls[3].GetToken(), &pb.TrialReport_Released{Released: true}),
	}
	reports[4].Outcome = result
	if _, err := client.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w1", Reports: reports}); err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"eosweep_results_total", map[string]string{"outcome": "stored"}, 1},
		{"eosweep_results_total", map[string]string{"outcome": "duplicate"}, 1},
		{"eosweep_results_total", map[string]string{"outcome": "rejected"}, 3},
		{"eosweep_results_total", map[string]string{"outcome": "error"}, 1},
		{"eosweep_results_total", map[string]string{"outcome": "released"}, 1},
		{"eosweep_rejected_reports_total", map[string]string{"reason": "token_mismatch"}, 1},
		{"eosweep_rejected_reports_total", map[string]string{"reason": "malformed"}, 1},
		{"eosweep_rejected_reports_total", map[string]string{"reason": "unknown_trial"}, 1},
		{"eosweep_rejected_reports_total", map[string]string{"reason": "lease_not_held"}, 0},
		{"eosweep_leases_granted_total", nil, 4},
		{"eosweep_lease_grant_seconds", nil, 1},
		{"eosweep_lease_expiries_total", nil, 0},
		{"eosweep_sweep_trials", map[string]string{"sweep": id, "name": "obs", "state": "done"}, 1},
		{"eosweep_sweep_trials", map[string]string{"sweep": id, "state": "pending"}, 3}, // the fifth, the error's and the release's
		{"eosweep_sweep_trials", map[string]string{"sweep": id, "state": "leased"}, 1},  // the one whose reports were refused
		{"eosweep_sweep_trials", map[string]string{"sweep": id}, 5},
		{"eosweep_sweep_round", map[string]string{"sweep": id}, 0},
		{"eosweep_trials", map[string]string{"state": "done"}, 1},
		{"eosweep_sweeps", map[string]string{"state": "running"}, 1},
		{"eosweep_workers_connected", nil, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "ReportResult", "grpc_code": "OK"}, 1},
		{"grpc_server_handling_seconds", map[string]string{"grpc_method": "ReportResult"}, 1},
	}
	for _, c := range checks {
		if got, ok := value(t, reg, c.name, c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if got, _ := value(t, reg, "store_commits_total", nil); got != 0 {
		t.Errorf("unprefixed store series")
	}
	if got, ok := value(t, reg, "eosweep_store_commits_total", nil); !ok || got < 3 {
		t.Errorf("eosweep_store_commits_total = %v (found %v), want ≥ 3 (submit, lease, report)", got, ok)
	}
	if got, ok := value(t, reg, "eosweep_sweep_last_result_timestamp_seconds", map[string]string{"sweep": id}); !ok ||
		time.Since(time.Unix(int64(got), 0)) > time.Minute {
		t.Errorf("last result timestamp = %v (found %v), want about now", got, ok)
	}

	// Finish the sweep: its series go, the totals stay.
	if _, err := client.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w1",
		Reports: []*pb.TrialReport{report(ls[1], ls[1].GetToken(), result)}}); err != nil {
		t.Fatal(err)
	}
	for {
		l, err := client.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w2", MaxTrials: 10, Wait: durationpb.New(0)})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.GetLeases()) == 0 {
			break
		}
		var rs []*pb.TrialReport
		for _, x := range l.GetLeases() {
			rs = append(rs, report(x, x.GetToken(), result))
		}
		if _, err := client.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "w2", Reports: rs}); err != nil {
			t.Fatal(err)
		}
	}
	waitDone(t, client, id)
	if _, ok := value(t, reg, "eosweep_sweep_trials", map[string]string{"sweep": id}); ok {
		t.Error("a finished sweep still has per-sweep series")
	}
	if got, _ := value(t, reg, "eosweep_trials", map[string]string{"state": "done"}); got != 5 {
		t.Errorf("eosweep_trials{done} = %v after the sweep, want 5", got)
	}
	if got, _ := value(t, reg, "eosweep_sweeps", map[string]string{"state": "done"}); got != 1 {
		t.Errorf("eosweep_sweeps{done} = %v, want 1", got)
	}
	if got, _ := value(t, reg, "eosweep_workers_connected", nil); got != 2 {
		t.Errorf("eosweep_workers_connected = %v, want 2 (w1, w2 seen within the TTL)", got)
	}

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "eosweep_worker_") || strings.HasPrefix(f.GetName(), "grpc_client_") {
			t.Errorf("the coordinator exports a worker's or client's series %s", f.GetName())
		}
	}
}

func waitDone(t *testing.T, client pb.CoordinatorServiceClient, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := client.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: id})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := st.Recv()
		if err != nil {
			t.Fatalf("watch ended before the sweep was done: %v", err)
		}
		if m.GetSweep().GetState() == pb.SweepState_SWEEP_STATE_DONE {
			return
		}
	}
}

// noRefiner plans no refinement round, so the sweep is DONE after its grid.
type noRefiner struct{}

func (noRefiner) Plan(_ *spec.Spec, _ []boundary.Trial) ([]map[string]float64, error) {
	return nil, nil
}

// Two coordinators on one registry: the second Open fails with an error.
func TestTwoCoordinatorsOnOneRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	coordinatortest.Start(t, coordinator.Config{Metrics: reg})
	if _, err := coordinator.Open(coordinator.Config{DBPath: t.TempDir() + "/b.db", NoSync: true, Metrics: reg}); err == nil {
		t.Fatal("a second coordinator registered on the same registry")
	}
}
