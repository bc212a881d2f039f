package dashboard

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/engine/enginetest"
)

// bigSpec is 100 η × 10 x0 × 100 seeds = 100,000 trials, the largest grid
// a spec may have by default.
const bigSpec = `name: big
model: single
grid:
  eta: {logspace: [0.05, 500, 100]}
  x0: [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8]
  seed: {range: [0, 100]}
params: {steps: 255}
`

// bigResult is a synthetic result shaped as the single model's: the bias
// stays on its plateau below 8/x0² and drops past it, with a trajectory of
// points points (the engine records up to 256).
func bigResult(p map[string]float64, points int) engine.Result {
	r := enginetest.Result(255)
	theory := 8 / (p["x0"] * p["x0"])
	drop := math.Max(0, math.Log(p["eta"]/theory)) * (1 + 0.01*p["seed"])
	r.FinalBias, r.MinBias = -drop, -drop
	r.InitialSharpness, r.FinalSharpness = p["x0"]*p["x0"]/4, 2/p["eta"]
	r.MaxEOSRatio, r.MaxEOSRatioAfterInit, r.EOSRatio = 1, 1, 0.9
	r.Trajectory = make([]engine.Point, points)
	for i := range r.Trajectory {
		step := i * 255 / (points - 1)
		r.Trajectory[i] = engine.Point{Step: step, Loss: 1 / float64(step+1), Bias: -drop * float64(step) / 255, Sharpness: 1}
	}
	return r
}

// buildBig writes a store holding spec with every trial done (results of
// points trajectory points) into dir and returns its path.
func buildBig(b *testing.B, dir, spec string, points int) string {
	path := filepath.Join(dir, "big.db")
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	sched, err := scheduler.New(st, scheduler.Config{MaxTrials: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := sched.Submit([]byte(spec)); err != nil {
		b.Fatal(err)
	}
	for {
		ls, err := sched.Lease(context.Background(), "bench", scheduler.MaxLeaseBatch, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(ls) == 0 {
			break
		}
		ds := make([]scheduler.Delivery, len(ls))
		for i, l := range ls {
			ds[i] = scheduler.Delivery{Sweep: l.Sweep, Trial: l.Trial, Token: l.Token, Result: bigResult(l.Params, points)}
		}
		if _, err := sched.Deliver(ds); err != nil {
			b.Fatal(err)
		}
	}
	sched.Close()
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// openBig opens the store at path with a scheduler and a dashboard over
// it; closeBig closes them.
func openBig(b *testing.B, path string) (d *Dashboard, id string, closeBig func()) {
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	sched, err := scheduler.New(st, scheduler.Config{MaxTrials: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	if d, err = New(Config{Source: FromCoordinator(sched, st), FirstWait: -1}); err != nil {
		b.Fatal(err)
	}
	return d, sched.Sweeps()[0].Sweep.ID, func() {
		d.Close()
		sched.Close()
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func getPage(b *testing.B, d *Dashboard, path string) int {
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.Len()
}

// BenchmarkSweep100k measures a sweep of 100,000 finished trials: its first
// analysis (every result read from the store), a page view once analysed,
// and each figure's first drawing. Results carry 2-point trajectories; see
// BenchmarkFirstAnalysis256 for the cost of full ones.
func BenchmarkSweep100k(b *testing.B) {
	path := buildBig(b, b.TempDir(), bigSpec, 2)
	b.Run("first-analysis", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			d, id, closeBig := openBig(b, path)
			b.StartTimer()
			getPage(b, d, "/sweeps/"+id+"?part=live")
			b.StopTimer()
			closeBig()
			b.StartTimer()
		}
	})
	b.Run("page", func(b *testing.B) {
		d, id, closeBig := openBig(b, path)
		defer closeBig()
		getPage(b, d, "/sweeps/"+id)
		var n int
		for b.Loop() {
			n = getPage(b, d, "/sweeps/"+id+"?part=live")
		}
		b.ReportMetric(float64(n), "bytes/page")
	})
	for _, fig := range []string{"phase", "overview", "group-0"} {
		b.Run("figure-"+fig, func(b *testing.B) {
			var n int
			for b.Loop() {
				b.StopTimer()
				d, id, closeBig := openBig(b, path)
				getPage(b, d, "/sweeps/"+id)
				b.StartTimer()
				n = getPage(b, d, "/sweeps/"+id+"/figures/"+fig+".svg")
				b.StopTimer()
				closeBig()
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "bytes/svg")
		})
	}
	b.Run("sweeps-list", func(b *testing.B) {
		d, _, closeBig := openBig(b, path)
		defer closeBig()
		for b.Loop() {
			getPage(b, d, "/sweeps?part=live")
		}
	})
}

// BenchmarkFirstAnalysis256 is the first analysis of a sweep of 10,000
// finished trials whose results carry 256-point trajectories, as the
// engine's do: reading them dominates.
func BenchmarkFirstAnalysis256(b *testing.B) {
	path := buildBig(b, b.TempDir(), strings.Replace(bigSpec, "seed: {range: [0, 100]}", "seed: {range: [0, 10]}", 1), 256)
	for b.Loop() {
		b.StopTimer()
		d, id, closeBig := openBig(b, path)
		b.StartTimer()
		getPage(b, d, "/sweeps/"+id+"?part=live")
		b.StopTimer()
		closeBig()
		b.StartTimer()
	}
}
