package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// TestBadDay is a newcomer's bad day: a coordinator with --max-attempts 1
// and a worker SIGKILLed mid-sweep, so that the trials it held FAIL when
// their leases expire; another worker finishes the rest. status, trials
// --state failed, boundary and the report all say which trials failed and
// why; retry runs them again and the boundary is then exactly that of an
// undisturbed run of the same spec.
func TestBadDay(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs coordinator and worker processes")
	}
	dir := t.TempDir()
	// 12 trials of about 0.3 s: long enough to be killed in the middle.
	spec := writeSpec(t, dir, "name: bad-day\nmodel: single\ngrid:\n  eta: {logspace: [0.5, 8, 6]}\n  seed: [0, 1]\nparams: {steps: 1500000}\n")
	undisturbed := eosweep(t, "boundary", "bad-day", "--db", func() string {
		db := filepath.Join(dir, "undisturbed.db")
		eosweep(t, "run", spec, "--db", db, "--workers", "2", "--quiet")
		return db
	}(), "--format", "json")

	_, addr := startCoordinator(t, filepath.Join(dir, "c.db"), "127.0.0.1:0", "--max-attempts", "1", "--lease-ttl", "1s")
	logA, logB := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	a := startWorker(t, addr, logA, "--parallel", "2", "--id", "wA")
	sub := submitSpec(t, addr, spec)
	testwait.Poll(t, "worker A to start 2 trials", time.Minute, func() bool { return len(executions(t, logA)) >= 2 })
	a.kill() // SIGKILL mid-trial: its leases expire after 1 s, and with one attempt their trials fail
	waitSweep(t, addr, sub.Sweep, "A's trials to fail", time.Minute, func(s *pb.Sweep) bool { return s.GetProgress().GetFailed() > 0 })
	b := startWorker(t, addr, logB, "--parallel", "2", "--id", "wB")
	waitSweep(t, addr, sub.Sweep, "the sweep", 2*time.Minute, sweepDone)

	st := sweepStatus(t, addr, sub.Sweep)
	if st.State != "done" || st.Failed == 0 || st.Done+st.Failed != st.Total {
		t.Fatalf("status %+v", st)
	}
	if table := eosweep(t, "status", sub.Sweep, "--coordinator", addr); !strings.Contains(table, "done ("+itoa(st.Failed)+" failed)") {
		t.Errorf("status table does not say the sweep has failed trials:\n%s", table)
	}

	// trials --state failed: which, and why.
	var failed []trialRow
	if err := json.Unmarshal([]byte(eosweep(t, "trials", sub.Sweep, "--coordinator", addr, "--state", "failed", "--format", "json")), &failed); err != nil {
		t.Fatal(err)
	}
	if int64(len(failed)) != st.Failed {
		t.Fatalf("%d failed trials listed, status says %d", len(failed), st.Failed)
	}
	type point struct{ eta, seed float64 }
	var failedAt []point
	for _, f := range failed {
		if !strings.Contains(f.Error, "expired") || !strings.Contains(f.Error, "wA") || f.Attempt != 1 {
			t.Errorf("failed trial %+v: want its expired lease of worker wA as the error", f)
		}
		failedAt = append(failedAt, point{f.Params["eta"], f.Params["seed"]})
	}

	// boundary: the group is incomplete and names the failed trials.
	var groups []boundaryRecord
	if err := json.Unmarshal([]byte(eosweep(t, "boundary", sub.Sweep, "--coordinator", addr, "--format", "json")), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || !groups[0].Incomplete || len(groups[0].Missing) != len(failed) {
		t.Fatalf("boundary %+v", groups)
	}
	for _, m := range groups[0].Missing {
		if m.State != "failed" || !strings.Contains(m.Error, "expired") || !slices.Contains(failedAt, point{m.Eta, m.Seed}) {
			t.Errorf("boundary's missing trial %+v is not one of the failed ones", m)
		}
	}
	if table := eosweep(t, "boundary", sub.Sweep, "--coordinator", addr); !strings.Contains(table, "have no result") || !strings.Contains(table, "failed at η = ") {
		t.Errorf("boundary table does not list the failed trials:\n%s", table)
	}

	// The report: trials.csv rows, boundary.json, boundary.txt.
	out := filepath.Join(dir, "report")
	eosweep(t, "report", sub.Sweep, "--coordinator", addr, "--out", out, "--size", "single")
	rows := readCSV(t, filepath.Join(out, "trials.csv"))
	col := func(name string) int { return slices.Index(rows[0], name) }
	reported := 0
	for _, r := range rows[1:] {
		if r[col("state")] == "failed" {
			reported++
			if !strings.Contains(r[col("error")], "expired") {
				t.Errorf("trials.csv failed row without its error: %v", r)
			}
		}
	}
	if reported != len(failed) {
		t.Errorf("trials.csv has %d failed rows, want %d", reported, len(failed))
	}
	if data, err := os.ReadFile(filepath.Join(out, "boundary.json")); err != nil || !strings.Contains(string(data), `"incomplete": true`) {
		t.Errorf("boundary.json: %v\n%s", err, data)
	}
	if txt, err := os.ReadFile(filepath.Join(out, "boundary.txt")); err != nil || !strings.Contains(string(txt), "failed at η = ") {
		t.Errorf("boundary.txt: %v\n%s", err, txt)
	}

	t.Logf("%d of %d trials failed with worker wA: %v", len(failed), st.Total, failedAt)

	// retry: the failed trials run again and the boundary is the undisturbed one.
	if got := eosweep(t, "retry", sub.Sweep, "--coordinator", addr); !strings.Contains(got, itoa(st.Failed)+" failed trials back to pending") {
		t.Errorf("retry: %q", got)
	}
	waitSweep(t, addr, sub.Sweep, "the retried sweep", 2*time.Minute, func(s *pb.Sweep) bool {
		return sweepDone(s) && s.GetProgress().GetFailed() == 0
	})
	if got := eosweep(t, "boundary", sub.Sweep, "--coordinator", addr, "--format", "json"); got != undisturbed {
		t.Errorf("boundary after retry differs from the undisturbed run:\n%s\nundisturbed:\n%s", got, undisturbed)
	}
	b.stop(t)
}

// boundaryRecord is the part of a boundary JSON record this test reads.
type boundaryRecord struct {
	Incomplete bool `json:"incomplete"`
	Missing    []struct {
		Eta   float64 `json:"eta"`
		Seed  float64 `json:"seed"`
		State string  `json:"state"`
		Error string  `json:"error"`
	} `json:"missing"`
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
