package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/report"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
)

// `run --out` (the report over the in-process connection at the end of an
// embedded run) and `report --coordinator` of a 3,000-trial sweep with full
// trajectories write a report of every trial: the trials come in pages
// bounded by bytes (both failed with ResourceExhausted when a page was 1000
// trials whatever their size).
func TestReportsOfFullTrajectories(t *testing.T) {
	t.Parallel()
	c, conn := coordinatortest.Start(t, coordinator.Config{})
	rec, _, err := c.Scheduler.Submit([]byte(coordinatortest.FullSpec()))
	if err != nil {
		t.Fatal(err)
	}
	coordinatortest.DeliverAll(t, c.Scheduler, func(scheduler.Lease) engine.Result { return enginetest.FullResult(50000, -0.25) })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Serve(lis) }() // until the coordinator's Shutdown at cleanup

	ctx := context.Background()
	dir := t.TempDir()
	runOut := filepath.Join(dir, "run")
	cmd := &cobra.Command{}
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetContext(ctx)
	if err := finishRun(cmd, conn, rec.ID, runOut); err != nil { // the end of `eosweep run --out`
		t.Fatalf("run --out: %v", err)
	}
	reportOut := filepath.Join(dir, "report")
	if _, stderr, err := execute(ctx, "report", rec.ID[:12], "--coordinator", lis.Addr().String(), "--out", reportOut,
		"--figure", "phase"); err != nil {
		t.Fatalf("report --coordinator: %v\n%s", err, stderr)
	}
	for _, d := range []string{runOut, reportOut} {
		f, err := os.Open(filepath.Join(d, report.TrialsCSV))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		_ = f.Close()
		if err != nil || len(rows) != coordinatortest.FullTrials()+1 {
			t.Errorf("%s: %d rows (%v), want a header and %d trials", d, len(rows), err, coordinatortest.FullTrials())
		}
	}
}
