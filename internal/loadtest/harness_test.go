package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// startCoordinator runs the eosweep coordinator on a free loopback port with a
// fresh store and returns its address once it reports SERVING, and its pid.
func startCoordinator(t *testing.T) (string, int) {
	t.Helper()
	bin := proctest.BuildOnce(t)
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "coordinator.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"coordinator", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "load.db"),
		"--max-trials", strconv.Itoa(max(chunk, 1000))}
	if leaseTTL > 0 {
		args = append(args, "--lease-ttl", leaseTTL.String())
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start coordinator: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("coordinator log (tail):\n%s", tail(string(b), 4000))
		}
	})
	// The coordinator prints "listening on ADDR" once it has bound its port.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("coordinator printed %q (%v)", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	waitServing(t, addr)
	return addr, cmd.Process.Pid
}

// rss returns a process's peak and current resident set size in bytes
// (Linux: VmHWM and VmRSS of /proc/PID/status).
func rss(pid int) (peak, now int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			peak = kb << 10
		case "VmRSS":
			now = kb << 10
		}
	}
	if peak == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
	}
	return peak, now, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return conn
}

func waitServing(t *testing.T, addr string) {
	t.Helper()
	conn := dial(t, addr)
	defer conn.Close()
	testwait.Poll(t, "the coordinator at "+addr+" to serve", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	})
}

// feeder keeps enough pending trials for every worker by submitting sweeps of
// trivial trials (single, steps=1), chunk seeds at a time, until ctx is done.
// It closes primed when low trials are first pending, and returns the ids
// of the sweeps it submitted.
func feeder(ctx context.Context, t *testing.T, c pb.CoordinatorServiceClient, low int64, primed chan<- struct{}) []string {
	defer func() { // also when it gives up: the test goes on to fail
		if primed != nil {
			close(primed)
		}
	}()
	var ids []string
	next := 0
	for ctx.Err() == nil {
		pending := int64(0)
		sweeps, err := allSweeps(c)
		if err != nil {
			t.Errorf("ListSweeps: %v", err)
			return ids
		}
		for _, s := range sweeps {
			pending += s.GetProgress().GetPending()
		}
		if pending >= low && primed != nil {
			close(primed)
			primed = nil
		}
		if pending < low {
			spec := fmt.Sprintf("name: load-%d\nmodel: single\ngrid:\n  seed: {range: [%d, %d]}\nparams: {eta: 0.5, steps: 1}\n",
				next, next*chunk, (next+1)*chunk)
			sub, err := c.SubmitSweep(context.Background(), &pb.SubmitSweepRequest{SpecYaml: spec})
			if err != nil {
				t.Errorf("SubmitSweep: %v", err)
				return ids
			}
			ids = append(ids, sub.GetSweep().GetId())
			next++
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return ids
}

// allSweeps reads every page of ListSweeps.
func allSweeps(c pb.CoordinatorServiceClient) ([]*pb.Sweep, error) {
	var out []*pb.Sweep
	token := ""
	for {
		resp, err := c.ListSweeps(context.Background(), &pb.ListSweepsRequest{PageToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetSweeps()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// waitDone waits until every sweep has no pending or leased trial.
func waitDone(t *testing.T, c pb.CoordinatorServiceClient, timeout time.Duration) {
	t.Helper()
	testwait.Poll(t, "every trial to finish", timeout, func() bool {
		sweeps, err := allSweeps(c)
		if err != nil {
			t.Fatalf("ListSweeps: %v", err)
		}
		open := int64(0)
		for _, s := range sweeps {
			open += s.GetProgress().GetPending() + s.GetProgress().GetLeased()
		}
		return open == 0
	})
}

// verify reads every trial back and checks it is DONE exactly once with the
// result a simulated worker reported. It returns the number of trials.
func verify(t *testing.T, c pb.CoordinatorServiceClient, sweeps []string, tl *tally) int {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range sweeps {
		token := ""
		for {
			resp, err := c.ListTrials(context.Background(), &pb.ListTrialsRequest{SweepId: id, PageSize: 5000, PageToken: token})
			if err != nil {
				t.Fatalf("ListTrials %s: %v", id, err)
			}
			for _, tr := range resp.GetTrials() {
				checkTrial(t, tr, seen, tl)
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
	}
	return len(seen)
}

func checkTrial(t *testing.T, tr *pb.Trial, seen map[string]bool, tl *tally) {
	t.Helper()
	if seen[tr.GetId()] {
		t.Errorf("trial %s listed twice", tr.GetId())
	}
	seen[tr.GetId()] = true
	if tr.GetState() != pb.TrialState_TRIAL_STATE_DONE {
		t.Errorf("trial %s is %v, want DONE", tr.GetId(), tr.GetState())
		return
	}
	if want := -tr.GetParams()["seed"] * 1e-3; tr.GetResult().GetFinalBias() != want {
		t.Errorf("trial %s stored final_bias %v, want the reported %v", tr.GetId(), tr.GetResult().GetFinalBias(), want)
	}
	if _, ok := tl.accepted.Load(tr.GetId()); !ok && tl.rpcErrors.Load() == 0 {
		t.Errorf("trial %s is DONE but no worker was told its report was accepted", tr.GetId())
	}
}
