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

func TestScrapeWorker(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	held := 3
	var mu sync.Mutex
	w, err := NewWorker(reg, WorkerState{Slots: 2, Held: func() int { mu.Lock(); defer mu.Unlock(); return held }})
	if err != nil {
		t.Fatal(err)
	}
	w.TrialRun(TrialOK, 2*time.Second)
	w.TrialRun(TrialDiverged, 10*time.Millisecond)

	url, stop := serve(t, reg)
	defer stop()
	fams := scrape(t, url)
	values := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"eosweep_worker_trials_total", map[string]string{"outcome": "ok"}, 1},
		{"eosweep_worker_trials_total", map[string]string{"outcome": "diverged"}, 1},
		{"eosweep_worker_trials_total", map[string]string{"outcome": "error"}, 0},
		{"eosweep_worker_trials_total", map[string]string{"outcome": "cancelled"}, 0},
		{"eosweep_worker_leases_held", nil, 3},
		{"eosweep_worker_slots", nil, 2},
		{"eosweep_build_info", nil, 1},
	}
	for _, v := range values {
		m := sample(t, fams, v.name, v.labels)
		if got := m.GetCounter().GetValue() + m.GetGauge().GetValue(); got != v.want {
			t.Errorf("%s%v = %v, want %v", v.name, v.labels, got, v.want)
		}
	}
	h := sample(t, fams, "eosweep_worker_engine_seconds", nil).GetHistogram()
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-2.01) > 1e-9 {
		t.Errorf("engine_seconds count=%d sum=%v, want 2 and 2.01", h.GetSampleCount(), h.GetSampleSum())
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("Go runtime collector missing")
	}
	// The leases gauge is read at scrape time.
	mu.Lock()
	held = 0
	mu.Unlock()
	fams = scrape(t, url)
	if got := sample(t, fams, "eosweep_worker_leases_held", nil).GetGauge().GetValue(); got != 0 {
		t.Errorf("leases held after change = %v, want 0", got)
	}
}

// Engine-time buckets are at most 2x apart, so a quantile estimate is off by
// at most 2x (with 4x buckets Prometheus put p90 at 6.25 s for a real 4.29 s).
func TestEngineBucketsAtMostTwiceApart(t *testing.T) {
	t.Parallel()
	for i := 1; i < len(engineBuckets); i++ {
		if r := engineBuckets[i] / engineBuckets[i-1]; r > 2+1e-9 {
			t.Errorf("buckets %g and %g are %.2fx apart", engineBuckets[i-1], engineBuckets[i], r)
		}
	}
	if engineBuckets[0] > 0.001 || engineBuckets[len(engineBuckets)-1] < 1800 {
		t.Errorf("buckets span [%g, %g], want at least [1 ms, 30 min]", engineBuckets[0], engineBuckets[len(engineBuckets)-1])
	}
}

// A nil worker set records nothing and does not panic.
func TestNilWorkerIsNoOp(t *testing.T) {
	t.Parallel()
	var w *Worker
	w.TrialRun(TrialOK, time.Second)
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
