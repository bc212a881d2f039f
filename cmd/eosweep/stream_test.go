package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/report"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
)

// streamSpec is a sweep of n trials (n/4 η × 4 seeds, the seeds listed out
// of order, so that the store's order is not the report's).
func streamSpec(n int) string {
	return fmt.Sprintf("name: stream\nmodel: single\ngrid: {eta: {logspace: [1.0e-3, 1, %d]}, seed: [3, 1, 0, 2]}\nparams: {steps: 50000}\n", n/4)
}

// streamResult is a full result (255-point trajectory) whose bias drops
// above η = 0.05; every other trial is of a result stored before
// max_eos_ratio_after_init (0), whose figures read it off the trajectory.
func streamResult(l scheduler.Lease) engine.Result {
	eta := l.Params["eta"]
	bias := -0.001
	if eta > 0.05 {
		bias = -0.2 - eta
	}
	r := enginetest.FullResult(50000, bias)
	if int(l.Params["seed"])%2 == 0 {
		r.MaxEOSRatioAfterInit, r.MaxEOSRatio = 0.5+eta, 0.5+eta
	}
	return r
}

// fillStore writes a stopped coordinator's store at path: a sweep of n
// trials, every one finished with streamResult; it returns the sweep's id.
// It serves the coordinator on a TCP port while serve runs (nil: not).
func fillStore(t testing.TB, path string, n int, serve func(c *coordinator.Coordinator, addr string)) string {
	t.Helper()
	c, err := coordinator.Open(coordinator.Config{DBPath: path, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := c.Scheduler.Submit([]byte(streamSpec(n)))
	if err != nil {
		t.Fatal(err)
	}
	coordinatortest.DeliverAll(t, c.Scheduler, streamResult)
	if serve != nil {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		go func() { defer close(served); _ = c.Serve(lis) }()
		serve(c, lis.Addr().String())
		defer func() { <-served }()
	}
	if err := c.Shutdown(time.Second); err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// streamedFiles are the report's files compared byte for byte.
var streamedFiles = []string{report.TrialsCSV, report.TrajectoriesCSV, report.BoundaryJSON, report.BoundaryTable,
	"trajectory.svg", "phase.svg", "overview.svg"}

// `report --db`, `report --coordinator` and `run --out` read the results'
// summaries and stream the trajectories, and write the report the trials
// read whole into memory give (writeReport of finished.Split of every trial
// and result, as the report was written before), byte for byte.
func TestReportStreamsTheSameReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	ctx := context.Background()
	dirs := map[string]string{}
	id := fillStore(t, db, 64, func(c *coordinator.Coordinator, addr string) {
		dirs["report --coordinator"] = filepath.Join(dir, "remote")
		if _, stderr, err := execute(ctx, "report", c.Scheduler.Sweeps()[0].Sweep.ID, "--coordinator", addr, "--out", dirs["report --coordinator"],
			"--figure", "trajectory,phase,overview"); err != nil {
			t.Fatalf("report --coordinator: %v\n%s", err, stderr)
		}
		conn, err := c.InProcessConn()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		dirs["run --out"] = filepath.Join(dir, "run")
		cmd := &cobra.Command{}
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetContext(ctx)
		if err := finishRun(cmd, conn, c.Scheduler.Sweeps()[0].Sweep.ID, dirs["run --out"]); err != nil {
			t.Fatalf("run --out: %v", err)
		}
	})
	dirs["report --db"] = filepath.Join(dir, "db")
	if _, stderr, err := execute(ctx, "report", id, "--db", db, "--out", dirs["report --db"], "--figure", "trajectory,phase,overview"); err != nil {
		t.Fatalf("report --db: %v\n%s", err, stderr)
	}

	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sw, err := st.Sweep(id)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spec.ParseStored([]byte(sw.SpecYAML))
	if err != nil {
		t.Fatal(err)
	}
	trials, err := st.Trials(id)
	if err != nil {
		t.Fatal(err)
	}
	results, err := st.Results(id)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "whole")
	cmd := &cobra.Command{}
	cmd.SetOut(&bytes.Buffer{})
	whole := sweepTrials{Analyses: sp.Analyses(), Set: finished.Split(trials, results)}
	if _, err := writeReport(cmd, whole, reportOptions{out: want, figures: []string{"trajectory", "phase", "overview"}}); err != nil {
		t.Fatal(err)
	}
	for name, got := range dirs {
		for _, f := range streamedFiles {
			a, err1 := os.ReadFile(filepath.Join(got, f))
			b, err2 := os.ReadFile(filepath.Join(want, f))
			if err1 != nil || err2 != nil || !bytes.Equal(a, b) || len(b) == 0 {
				t.Errorf("%s: %s differs from the report of the trials read whole (%v, %v)", name, f, err1, err2)
			}
		}
	}
}

// liveHeap records the largest live heap (runtime/metrics /gc/heap/live,
// what the last GC marked) at the end of every GC while it runs.
type liveHeap struct {
	mu      sync.Mutex
	peak    uint64
	stopped bool
}

func watchLiveHeap() *liveHeap {
	h := &liveHeap{}
	var arm func()
	arm = func() {
		sentinel := new([64]byte)
		runtime.SetFinalizer(sentinel, func(*[64]byte) { // runs after each GC that found it unreachable
			s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(s)
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.stopped {
				return
			}
			h.peak = max(h.peak, s[0].Value.Uint64())
			arm()
		})
	}
	arm()
	return h
}

func (h *liveHeap) stop() uint64 {
	runtime.GC() // a last sample
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	return h.peak
}

// trajectoryBytes is what one full trajectory holds in memory: its points.
const trajectoryBytes = (engine.MaxTrajectory - 1) * 32

// `report --db` of a sweep whose trials all have full 255-point
// trajectories holds far less than a trajectory per trial at its peak: the
// live heap grows by under a quarter of a trajectory's bytes per trial
// between a small and a large sweep (the sizes cancel what every report
// holds). Reading every trial with its trajectory, the report grew by more
// than the trajectory itself. Not parallel: it measures the process' heap.
func TestReportHeapPerTrial(t *testing.T) {
	sizes := []int{200, 1200}
	if testing.Short() {
		sizes = []int{100, 600}
	}
	dir := t.TempDir()
	ctx := context.Background()
	peaks := make([]uint64, len(sizes))
	defer debug.SetGCPercent(debug.SetGCPercent(20)) // frequent GCs: closer samples of the peak
	for i, n := range sizes {
		db := filepath.Join(dir, strconv.Itoa(n)+".db")
		id := fillStore(t, db, n, nil)
		runtime.GC()
		h := watchLiveHeap()
		_, stderr, err := execute(ctx, "report", id, "--db", db, "--out", filepath.Join(dir, strconv.Itoa(n)), "--figure", "trajectory,phase")
		peaks[i] = h.stop()
		if err != nil {
			t.Fatalf("report of %d trials: %v\n%s", n, err, stderr)
		}
	}
	perTrial := (float64(peaks[1]) - float64(peaks[0])) / float64(sizes[1]-sizes[0])
	t.Logf("peak live heap: %v bytes for %v trials: %.0f bytes a trial (a trajectory: %d bytes)", peaks, sizes, perTrial, trajectoryBytes)
	if perTrial > trajectoryBytes/4 {
		t.Errorf("the report's live heap grows by %.0f bytes a trial, more than a quarter of a trajectory (%d bytes): %s", perTrial, trajectoryBytes,
			"are the trajectories held?")
	}
}
