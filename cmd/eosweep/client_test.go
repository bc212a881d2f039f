package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine/enginetest"
	"github.com/eosweep/eosweep/internal/wire"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// serveCoordinator serves an in-memory-process coordinator on a loopback
// port (no child process) and returns its address and an in-process client.
func serveCoordinator(t *testing.T, sc scheduler.Config) (string, pb.CoordinatorServiceClient) {
	t.Helper()
	c, err := coordinator.Open(coordinator.Config{DBPath: filepath.Join(t.TempDir(), "c.db"), NoSync: true, Scheduler: sc})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = c.Serve(lis) }()
	conn, err := c.InProcessConn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Shutdown(time.Second); err != nil {
			t.Error(err)
		}
		<-served
	})
	return lis.Addr().String(), pb.NewCoordinatorServiceClient(conn)
}

// fakeWorker leases every pending trial of the coordinator and reports,
// for each, what outcome returns: a result, or an error message.
func fakeWorker(t *testing.T, cl pb.CoordinatorServiceClient, outcome func(l *pb.Lease) (res *pb.Result, errMsg string)) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := 0
	for {
		resp, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "fake", MaxTrials: 100, Wait: durationpb.New(50 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetLeases()) == 0 {
			return n
		}
		var reports []*pb.TrialReport
		for _, l := range resp.GetLeases() {
			r := &pb.TrialReport{SweepId: l.GetSweepId(), TrialId: l.GetTrialId(), Token: l.GetToken()}
			if res, msg := outcome(l); res != nil {
				r.Outcome = &pb.TrialReport_Result{Result: res}
			} else {
				r.Outcome = &pb.TrialReport_Error{Error: msg}
			}
			reports = append(reports, r)
			n++
		}
		if _, err := cl.ReportResult(ctx, &pb.ReportResultRequest{WorkerId: "fake", Reports: reports}); err != nil {
			t.Fatal(err)
		}
	}
}

// failAt fails the trials at η = eta with "engine: boom", succeeds elsewhere.
func failAt(eta float64) func(l *pb.Lease) (*pb.Result, string) {
	return func(l *pb.Lease) (*pb.Result, string) {
		if l.GetParams()["eta"] == eta {
			return nil, "engine: boom"
		}
		res := enginetest.ResultBias(10, -l.GetParams()["eta"])
		return wire.ResultToProto(res), ""
	}
}

func submitText(t *testing.T, cl pb.CoordinatorServiceClient, yaml string) *pb.Sweep {
	t.Helper()
	resp, err := cl.SubmitSweep(context.Background(), &pb.SubmitSweepRequest{SpecYaml: yaml})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetSweep()
}

// run runs eosweep args in-process and returns stdout, failing on an error.
func run(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := execute(context.Background(), args...)
	if err != nil {
		t.Fatalf("eosweep %v: %v\n%s", args, err, errOut)
	}
	return out
}

const threeEtas = "name: three\nmodel: single\ngrid: {eta: [1, 2, 3], seed: [0, 1]}\nparams: {steps: 10}\n"

// Failed trials in plain sight, then retried: `trials --state failed` says
// which and why, status says "done (2 failed)", retry puts them back to
// pending with fresh attempts and says how many; a second retry has nothing.
func TestTrialsAndRetry(t *testing.T) {
	t.Parallel()
	addr, cl := serveCoordinator(t, scheduler.Config{MaxAttempts: 1})
	sw := submitText(t, cl, threeEtas)
	fakeWorker(t, cl, failAt(2))

	var rows []trialRow
	if err := json.Unmarshal([]byte(run(t, "trials", sw.GetId(), "--coordinator", addr, "--state", "failed", "--format", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d failed trials, want 2: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.State != "failed" || r.Params["eta"] != 2 || r.Attempt != 1 || !strings.Contains(r.Error, "engine: boom") {
			t.Errorf("failed trial %+v", r)
		}
	}
	table := run(t, "trials", sw.GetId()[:5], "--coordinator", addr)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 7 || !strings.Contains(lines[0], "eta") || !strings.Contains(lines[0], "seed") {
		t.Errorf("trials table:\n%s", table)
	}
	if got := run(t, "status", sw.GetId(), "--coordinator", addr); !strings.Contains(got, "done (2 failed)") {
		t.Errorf("status:\n%s", got)
	}
	if got := run(t, "retry", sw.GetId(), "--coordinator", addr); !strings.Contains(got, "2 failed trials back to pending") {
		t.Errorf("retry: %q", got)
	}
	if got := run(t, "trials", sw.GetId(), "--coordinator", addr, "--state", "pending", "--format", "csv"); strings.Count(got, "\n") != 3 {
		t.Errorf("pending after retry:\n%s", got)
	}
	fakeWorker(t, cl, failAt(-1))
	if got := run(t, "retry", sw.GetId(), "--coordinator", addr); !strings.Contains(got, "no failed trials to retry") {
		t.Errorf("second retry: %q", got)
	}
	if _, _, err := execute(context.Background(), "retry", sw.GetId(), "--coordinator", addr, "--state", "done"); err == nil || !strings.Contains(err.Error(), "failed or cancelled") {
		t.Errorf("retry --state done: %v", err)
	}
}

// Cancel refuses a finished sweep and leaves it done; cancelling twice
// changes nothing the second time.
func TestCancelMessages(t *testing.T) {
	t.Parallel()
	addr, cl := serveCoordinator(t, scheduler.Config{})
	finishedSweep := submitText(t, cl, threeEtas)
	fakeWorker(t, cl, failAt(-1))
	_, _, err := execute(context.Background(), "cancel", finishedSweep.GetId(), "--coordinator", addr)
	if err == nil || !strings.Contains(err.Error(), "already done") {
		t.Errorf("cancel of a finished sweep: %v", err)
	}
	if got := run(t, "status", finishedSweep.GetId(), "--coordinator", addr, "--json"); !strings.Contains(got, `"state":"done"`) {
		t.Errorf("after a refused cancel: %s", got)
	}
	// Other trials (steps 11): the finished sweep's would be reused, done at submit.
	pending := submitText(t, cl, strings.Replace(strings.Replace(threeEtas, "name: three", "name: pending", 1), "steps: 10", "steps: 11", 1))
	if got := run(t, "cancel", pending.GetId(), "--coordinator", addr); !strings.Contains(got, "cancelled: 6 trials cancelled, 0 done kept") {
		t.Errorf("cancel: %q", got)
	}
	if got := run(t, "cancel", pending.GetId(), "--coordinator", addr); !strings.Contains(got, "already cancelled; nothing changed") {
		t.Errorf("second cancel: %q", got)
	}
}

// With --db, trials reads the stopped store: a leased trial shows its lease
// deadline, a failed one its error; --state takes a comma list.
func TestTrialsFromStore(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ops := []store.Op{must(store.SweepOp(store.Sweep{ID: "sw1", Name: "three", Model: "single", SpecYAML: threeEtas, State: store.SweepRunning}))}
	for i, tr := range []store.Trial{
		{ID: "a", State: store.Leased, Attempt: 2, Deadline: deadline, LastError: "lease of attempt 1 expired (worker w1)"},
		{ID: "b", State: store.Failed, Attempt: 3, LastError: "engine: boom"},
		{ID: "c", State: store.Pending},
	} {
		tr.Sweep, tr.Seq, tr.Params = "sw1", i, map[string]float64{"eta": float64(i + 1), "seed": 0, "steps": 10}
		ops = append(ops, must(store.TrialOp(tr)))
	}
	if err := st.Apply(ops...); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var rows []trialRow
	if err := json.Unmarshal([]byte(run(t, "trials", "sw1", "--db", db, "--state", "leased,failed", "--format", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Deadline == nil || !rows[0].Deadline.Equal(deadline) || rows[1].Deadline != nil || rows[1].Error != "engine: boom" {
		t.Fatalf("rows %+v", rows)
	}
	table := run(t, "trials", "sw1", "--db", db)
	for _, want := range []string{"DEADLINE", "expired", "engine: boom", "pending"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if _, _, err := execute(context.Background(), "trials", "sw1", "--db", db, "--state", "running"); err == nil || !strings.Contains(err.Error(), "want pending, leased, done, failed, cancelled") {
		t.Errorf("--state running: %v", err)
	}
}

// must unwraps an op constructor's result.
func must(op store.Op, err error) store.Op {
	if err != nil {
		panic(err)
	}
	return op
}

// workersServer answers ListWorkers with fixed workers.
type workersServer struct {
	pb.UnimplementedCoordinatorServiceServer
	workers []*pb.WorkerInfo
}

func (s *workersServer) ListWorkers(context.Context, *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	return &pb.ListWorkersResponse{Workers: s.workers}, nil
}

// eosweep workers prints what ListWorkers says, as a table or JSON; a
// coordinator without ListWorkers gets a message saying so.
func TestWorkers(t *testing.T) {
	t.Parallel()
	seen := time.Now().Add(-90 * time.Second)
	srv := grpc.NewServer()
	pb.RegisterCoordinatorServiceServer(srv, &workersServer{workers: []*pb.WorkerInfo{
		{WorkerId: "node1-42", Address: "10.0.0.7:5123", LastSeen: timestamppb.New(seen), Leases: 3, TrialsDone: 120, EngineSeconds: 61.5},
	}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	table := run(t, "workers", "--coordinator", lis.Addr().String())
	for _, want := range []string{"WORKER", "LAST SEEN", "node1-42", "10.0.0.7:5123", "1m30s ago", "  3  ", "120", "1m1.5s"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	var got workerOutput
	if err := json.Unmarshal([]byte(run(t, "workers", "--coordinator", lis.Addr().String(), "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Worker != "node1-42" || got.Leases != 3 || got.TrialsDone != 120 || got.EngineSeconds != 61.5 || !got.LastSeen.Equal(seen.UTC().Truncate(time.Nanosecond)) {
		t.Errorf("json %+v", got)
	}
	old := grpc.NewServer() // a coordinator older than ListWorkers
	pb.RegisterCoordinatorServiceServer(old, pb.UnimplementedCoordinatorServiceServer{})
	oldLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = old.Serve(oldLis) }()
	t.Cleanup(old.Stop)
	if _, _, err := execute(context.Background(), "workers", "--coordinator", oldLis.Addr().String()); err == nil || !strings.Contains(err.Error(), "does not list its workers") {
		t.Errorf("against a coordinator without ListWorkers: %v", err)
	}
	// This coordinator lists the workers it heard from: none yet.
	addr, _ := serveCoordinator(t, scheduler.Config{})
	if got := run(t, "workers", "--coordinator", addr); !strings.Contains(got, "no workers") {
		t.Errorf("against a fresh coordinator: %q", got)
	}
}

// newerServer is a coordinator with the issue-10 server side: ListTrials
// filters by state and names each lease's worker and deadline, RetrySweep
// retries the states asked for.
type newerServer struct {
	pb.UnimplementedCoordinatorServiceServer
	sweep       *pb.Sweep
	askedStates []pb.TrialState
	retried     []pb.TrialState
}

func (s *newerServer) ListSweeps(context.Context, *pb.ListSweepsRequest) (*pb.ListSweepsResponse, error) {
	return &pb.ListSweepsResponse{Sweeps: []*pb.Sweep{s.sweep}}, nil
}

func (s *newerServer) GetSweep(context.Context, *pb.GetSweepRequest) (*pb.GetSweepResponse, error) {
	return &pb.GetSweepResponse{Sweep: s.sweep}, nil
}

func (s *newerServer) ListTrials(_ context.Context, r *pb.ListTrialsRequest) (*pb.ListTrialsResponse, error) {
	s.askedStates = r.GetStates()
	return &pb.ListTrialsResponse{Trials: []*pb.Trial{{Id: "t1", SweepId: s.sweep.GetId(), State: pb.TrialState_TRIAL_STATE_LEASED,
		Attempt: 1, Params: map[string]float64{"eta": 1}, WorkerId: "node1-42", Deadline: timestamppb.New(time.Now().Add(time.Hour))}}}, nil
}

func (s *newerServer) RetrySweep(_ context.Context, r *pb.RetrySweepRequest) (*pb.RetrySweepResponse, error) {
	s.retried = r.GetStates()
	return &pb.RetrySweepResponse{Sweep: s.sweep, Retried: 7}, nil
}

func TestTrialsAndRetryOnNewerCoordinator(t *testing.T) {
	t.Parallel()
	fake := &newerServer{sweep: &pb.Sweep{Id: "abc", State: pb.SweepState_SWEEP_STATE_DONE, SpecYaml: threeEtas,
		Progress: &pb.Progress{Total: 10, Done: 3, Failed: 4, Cancelled: 3}}}
	srv := grpc.NewServer()
	pb.RegisterCoordinatorServiceServer(srv, fake)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	addr := lis.Addr().String()
	table := run(t, "trials", "abc", "--coordinator", addr, "--state", "leased")
	if !strings.Contains(table, "node1-42") || !strings.Contains(table, "in 1h0m0s") ||
		len(fake.askedStates) != 1 || fake.askedStates[0] != pb.TrialState_TRIAL_STATE_LEASED {
		t.Errorf("asked for %v; table:\n%s", fake.askedStates, table)
	}
	// A newer coordinator retries failed trials alone, cancelled ones kept.
	if got := run(t, "retry", "abc", "--coordinator", addr); !strings.Contains(got, "7 failed trials back to pending") ||
		len(fake.retried) != 1 || fake.retried[0] != pb.TrialState_TRIAL_STATE_FAILED {
		t.Errorf("retry: %q, states %v", got, fake.retried)
	}
}

// status --watch against a coordinator returns when the sweep is done, its
// last line the final state; pipes get no control characters.
func TestStatusWatchFollowsToTheEnd(t *testing.T) {
	t.Parallel()
	addr, cl := serveCoordinator(t, scheduler.Config{MaxAttempts: 1})
	sw := submitText(t, cl, threeEtas)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := execute(context.Background(), "status", sw.GetId(), "--watch", "--coordinator", addr)
		done <- result{out, err}
	}()
	fakeWorker(t, cl, failAt(3))
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "done (2 failed)") || strings.ContainsAny(r.out, "\r\033") {
		t.Errorf("watch output:\n%q", r.out)
	}
}
