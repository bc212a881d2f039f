package coordinator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

const (
	nativeSweep = "name: native\nmodel: single\ngrid: {eta: {linspace: [0.5, 2, 40]}}\nparams: {steps: 20}\n"
	execSweep   = "name: prog\nmodel: exec\nexec: {command: [python3, train.py, \"--lr={eta}\"], env: {A: b}, timeout: 90s}\n" +
		"grid: {eta: {linspace: [0.5, 2, 20]}, seed: [0, 1]}\n"
)

// Capability matching, seen through the RPCs alone: workers that do not say
// allow_exec, leasing side by side while a native sweep and an exec sweep
// are both pending, get every native trial and never an exec one; the exec
// trials wait for a worker that runs programs, which gets them with their
// program.
func TestExecTrialsOnlyToExecWorkers(t *testing.T) {
	t.Parallel()
	_, conn := coordinatortest.Start(t, coordinator.Config{})
	cl := pb.NewCoordinatorServiceClient(conn)
	ctx := context.Background()
	var ids [2]string
	for i, y := range []string{execSweep, nativeSweep} { // the exec sweep first: its trials are ahead in line
		r, err := cl.SubmitSweep(ctx, &pb.SubmitSweepRequest{SpecYaml: y})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.GetSweep().GetId()
	}
	execID, nativeID := ids[0], ids[1]

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 { // plain workers until the native sweep is done
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: fmt.Sprintf("plain-%d", w), MaxTrials: 3,
					Wait: durationpb.New(20 * time.Millisecond)})
				if err != nil {
					errs <- err
					return
				}
				if len(resp.GetLeases()) == 0 {
					return // nothing left for a plain worker
				}
				var reports []*pb.TrialReport
				for _, l := range resp.GetLeases() {
					if l.GetSweepId() != nativeID || l.GetModel() == engine.ModelExec || l.GetExec() != nil {
						errs <- fmt.Errorf("worker without allow_exec got %s/%s (model %s)", l.GetSweepId(), l.GetTrialId(), l.GetModel())
						return
					}
					reports = append(reports, &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken(),
						Outcome: &pb.TrialReport_Result{Result: wire.ResultToProto(enginetest.Result(20))}})
				}
				if _, err := cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "plain", Reports: reports}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for id, want := range map[string][2]int64{nativeID: {40, 0}, execID: {0, 40}} {
		sw, err := cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id})
		if err != nil {
			t.Fatal(err)
		}
		if p := sw.GetSweep().GetProgress(); p.GetDone() != want[0] || p.GetPending() != want[1] {
			t.Fatalf("sweep %s: %d done, %d pending; want %v", sw.GetSweep().GetName(), p.GetDone(), p.GetPending(), want)
		}
	}
	resp, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "runner", MaxTrials: 100, AllowExec: true})
	if err != nil || len(resp.GetLeases()) != 40 {
		t.Fatalf("exec worker: %d leases, %v", len(resp.GetLeases()), err)
	}
	x := resp.GetLeases()[0].GetExec()
	if x == nil || x.GetCommand()[2] != "--lr={eta}" || x.GetEnv()["A"] != "b" || x.GetTimeout().AsDuration() != 90*time.Second {
		t.Fatalf("lease without its program: %+v", resp.GetLeases()[0])
	}
}
