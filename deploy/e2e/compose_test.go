package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/internal/testwait"
)

// spec is the sweep of the campaign: 144 sparse trials of 0.2–4 s each
// (about a minute on 2 cores), so the sweep is still running while the faults
// are injected.
const spec = `name: compose-e2e
model: sparse
grid:
  eta: {logspace: [3.0e-4, 3.0e-3, 6]}
  seed: {range: [0, 24]}
params: {width: 200, horizon: 40}
`

const (
	trials   = 144
	leaseTTL = 4 * time.Second
)

func TestComposeFaultCampaign(t *testing.T) {
	if os.Getenv("EOSWEEP_COMPOSE_E2E") == "" {
		t.Skip("SKIPPED: set EOSWEEP_COMPOSE_E2E=1 to run the docker-compose fault campaign")
	}
	if _, err := runErr(nil, "docker", "info"); err != nil {
		t.Skip("SKIPPED: no Docker daemon available")
	}
	if _, err := runErr(nil, "docker-compose", "version"); err != nil {
		t.Skip("SKIPPED: docker-compose not installed")
	}
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	image, bin := buildImage(t, dir)
	c := up(t, image, leaseTTL)
	cli := func(args ...string) string { return run(t, nil, bin, append(args, "--coordinator", c.grpc)...) }
	c.waitHealthy(bin, time.Minute)

	var sub struct{ Sweep string }
	if err := json.Unmarshal([]byte(cli("submit", specFile, "--json")), &sub); err != nil {
		t.Fatalf("submit: %v", err)
	}
	status := func() sweepStatus { return c.status(bin, sub.Sweep) }
	t.Logf("sweep %s submitted", sub.Sweep)

	// The faults come in order of how much pending work they need: a partition
	// needs the cut-off worker to hold a lease until it expires, so it comes
	// first, while most of the sweep is still pending.
	c.waitDone(status, 5, 3*time.Minute)
	c.partition(c.container("worker", 2))
	t.Logf("reconnected worker 2 at %d done", status().Done)

	c.waitDone(status, status().Done+10, 3*time.Minute)
	c.docker("kill", c.container("worker", 1))
	t.Logf("killed worker 1 at %d done", status().Done)

	c.waitDone(status, status().Done+10, 3*time.Minute)
	if done := status().Done; done >= trials {
		t.Fatalf("the sweep finished (%d done) before the coordinator restart: the campaign is too short for this machine", done)
	}
	c.docker("restart", "--time=5", c.container("coordinator", 1))
	c.waitHealthy(bin, time.Minute)
	t.Logf("restarted the coordinator at %d done", status().Done)
	c.docker("ps", "-a") // keep the containers' states in the log of a failure

	final := c.waitState(status, "done", 5*time.Minute)
	if final.Done != final.Total || final.Failed != 0 || final.Total != trials {
		t.Fatalf("sweep ended %+v, want %d trials done", final, trials)
	}
	t.Logf("sweep done: %d trials; killed worker 1 is %s", final.Done,
		strings.TrimSpace(c.docker("inspect", "-f", "{{.State.Status}} (restarts {{.RestartCount}})", c.container("worker", 1))))
	cli("report", sub.Sweep, "--out", filepath.Join(dir, "cluster"))
	run(t, nil, bin, "run", specFile, "--db", filepath.Join(dir, "embedded.db"), "--out", filepath.Join(dir, "embedded"), "--quiet")
	compareTrials(t, filepath.Join(dir, "cluster", "trials.csv"), filepath.Join(dir, "embedded", "trials.csv"), trials)
}

// sweepStatus is the part of `eosweep status --json` the campaign reads.
type sweepStatus struct {
	State  string `json:"state"`
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
}

func (c *cluster) status(bin, id string) sweepStatus {
	c.t.Helper()
	var s sweepStatus
	out, err := runErr(nil, bin, "status", id, "--coordinator", c.grpc, "--json")
	if err == nil {
		_ = json.Unmarshal([]byte(out), &s)
	}
	return s // zero while the coordinator is away
}

func (c *cluster) waitHealthy(bin string, limit time.Duration) {
	c.t.Helper()
	c.waitFor("coordinator healthy", limit, func() bool {
		_, err := runErr(nil, bin, "health", "--coordinator", c.grpc, "--timeout=1s")
		return err == nil
	})
}

func (c *cluster) waitDone(status func() sweepStatus, n int, limit time.Duration) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("%d trials done", n), limit, func() bool { return status().Done >= n })
}

func (c *cluster) waitState(status func() sweepStatus, state string, limit time.Duration) sweepStatus {
	c.t.Helper()
	var s sweepStatus
	c.waitFor("sweep "+state, limit, func() bool { s = status(); return s.State == state })
	return s
}

func (c *cluster) waitFor(what string, limit time.Duration, cond func() bool) {
	c.t.Helper()
	testwait.Poll(c.t, what, limit, cond)
}

// partition cuts container off the project network until the coordinator
// counts an expired lease, then reconnects it.
func (c *cluster) partition(container string) {
	c.t.Helper()
	before := c.leaseExpiries()
	c.docker("network", "disconnect", c.network(), container)
	start := time.Now()
	c.waitFor("a lease of the cut-off worker to expire", time.Minute, func() bool { return c.leaseExpiries() > before })
	c.t.Logf("worker cut off; a lease expired after %v", time.Since(start).Round(100*time.Millisecond))
	c.docker("network", "connect", c.network(), container)
}

// leaseExpiries reads eosweep_lease_expiries_total from the coordinator.
func (c *cluster) leaseExpiries() float64 {
	resp, err := http.Get(c.metrics)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "eosweep_lease_expiries_total "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}
