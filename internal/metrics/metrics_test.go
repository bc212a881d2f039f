package metrics

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches url and parses the Prometheus text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// sample returns the metric of family name whose labels include want.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s in scrape", name)
	}
	for _, m := range fam.GetMetric() {
		match := 0
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
				match++
			}
		}
		if match == len(want) {
			return m
		}
	}
	t.Fatalf("no %s sample with labels %v", name, want)
	return nil
}

// serve starts Serve on a loopback port and returns the scrape URL and a stop
// function that checks Serve returned nil.
func serve(t *testing.T, reg *prometheus.Registry) (string, func()) {
	t.Helper()
	lis, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, lis, reg, nil) }()
	stop := func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	}
	return fmt.Sprintf("http://%s%s", lis.Addr(), Path), stop
}

func TestScrapeCoordinatorAndWorker(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	var mu sync.Mutex
	counts := map[string]int{"pending": 7, "leased": 2, "done": 0, "failed": 1}
	c := NewCoordinator(reg, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]int, len(counts))
		for k, v := range counts {
			out[k] = v
		}
		return out
	})
	w := NewWorker(reg)
	c.LeaseExpired(3)
	c.Result(OutcomeStored, 5)
	c.Result(OutcomeDuplicate, 1)
	w.TrialRun(TrialOK, 2*time.Second)
	w.TrialRun(TrialDiverged, 10*time.Millisecond)

	url, stop := serve(t, reg)
	defer stop()
	fams := scrape(t, url)
	gauges := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"eosweep_trials", map[string]string{"state": "pending"}, 7},
		{"eosweep_trials", map[string]string{"state": "leased"}, 2},
		{"eosweep_trials", map[string]string{"state": "done"}, 0},
		{"eosweep_trials", map[string]string{"state": "failed"}, 1},
	}
	for _, g := range gauges {
		if got := sample(t, fams, g.name, g.labels).GetGauge().GetValue(); got != g.want {
			t.Errorf("%s%v = %v, want %v", g.name, g.labels, got, g.want)
		}
	}
	counters := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"eosweep_lease_expiries_total", nil, 3},
		{"eosweep_results_total", map[string]string{"outcome": "stored"}, 5},
		{"eosweep_results_total", map[string]string{"outcome": "duplicate"}, 1},
		{"eosweep_worker_trials_total", map[string]string{"outcome": "ok"}, 1},
		{"eosweep_worker_trials_total", map[string]string{"outcome": "diverged"}, 1},
		{"eosweep_worker_trials_total", map[string]string{"outcome": "error"}, 0},
	}
	for _, k := range counters {
		if got := sample(t, fams, k.name, k.labels).GetCounter().GetValue(); got != k.want {
			t.Errorf("%s%v = %v, want %v", k.name, k.labels, got, k.want)
		}
	}
	h := sample(t, fams, "eosweep_worker_engine_seconds", nil).GetHistogram()
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-2.01) > 1e-9 {
		t.Errorf("engine_seconds count=%d sum=%v, want 2 and 2.01", h.GetSampleCount(), h.GetSampleSum())
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("Go runtime collector missing")
	}

	// The state gauge is read at scrape time: a change shows at the next scrape.
	mu.Lock()
	counts["pending"], counts["done"] = 0, 7
	mu.Unlock()
	fams = scrape(t, url)
	if got := sample(t, fams, "eosweep_trials", map[string]string{"state": "done"}).GetGauge().GetValue(); got != 7 {
		t.Errorf("done after change = %v, want 7", got)
	}
}

// Nil metric sets record nothing and do not panic, so callers need no checks.
func TestNilSetsAreNoOps(t *testing.T) {
	t.Parallel()
	var c *Coordinator
	var w *Worker
	var r *RPC
	c.LeaseExpired(1)
	c.Result(OutcomeStored, 1)
	w.TrialRun(TrialOK, time.Second)
	if r.ServerOptions() != nil || r.DialOptions() != nil {
		t.Error("nil RPC returned options")
	}
}

// A coordinator without a store yet scrapes fine, without the state gauge.
func TestNilStateCallback(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	NewCoordinator(reg, nil)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == "eosweep_trials" {
			t.Errorf("state gauge present without a callback: %v", f)
		}
	}
}

func TestListenBusyPort(t *testing.T) {
	t.Parallel()
	lis, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if _, err := Listen(lis.Addr().String()); err == nil {
		t.Fatal("second Listen on a busy port succeeded")
	}
}
