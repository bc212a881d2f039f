package boundary

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/engine"
)

// metricTrials builds trials of model exec over a log grid around eta0, in
// groups "width", whose results come from res.
func metricTrials(widths []float64, seeds int, grid []float64, res func(eta, seed, width float64) engine.Result) []Trial {
	var out []Trial
	for _, w := range widths {
		for _, eta := range grid {
			for s := range seeds {
				out = append(out, Trial{Params: map[string]float64{"eta": eta, "seed": float64(s), "width": w, "horizon": 10},
					Result: res(eta, float64(s), w)})
			}
		}
	}
	return out
}

// A metric other than final_bias, rising against its plateau, in an exec
// sweep with free-form parameters: the onset is where it starts to grow and
// η* where the rise passes the threshold.
func TestMetricRiseFromPlateau(t *testing.T) {
	t.Parallel()
	const eta0 = 0.02
	grid := logGrid(0.005, 0.08, 25)
	trials := metricTrials([]float64{1, 2}, 3, grid, func(eta, seed, w float64) engine.Result {
		score := 0.5 + 0.01*seed + w*math.Max(0, math.Log(eta/eta0))
		return engine.Result{FinalBias: 7, Metrics: map[string]float64{"score": score}}
	})
	a, err := Analyze(trials, Options{Model: engine.ModelExec, GroupBy: []string{"width"}, BiasEps: 0.05,
		Metric: Metric{Name: "score", Sense: SenseRise}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Groups) != 2 {
		t.Fatalf("%d groups, want 2", len(a.Groups))
	}
	for _, g := range a.Groups {
		w := g.Key["width"]
		wantStar := eta0 * math.Exp(0.05/w) // the rise passes 0.05 there
		if g.Crossing != CrossingInside || g.Bracket.Low > wantStar || g.Bracket.High < wantStar {
			t.Errorf("width %g: bracket %+v (%s) does not hold %g", w, g.Bracket, g.Crossing, wantStar)
		}
		if math.Abs(g.Onset/eta0-1) > 0.03 {
			t.Errorf("width %g: onset %g, want %g within 3%% (%s)", w, g.Onset, eta0, g.OnsetForm)
		}
		if g.Theory != nil || g.Metric.Name != "score" {
			t.Errorf("width %g: theory %v, metric %+v", w, g.Theory, g.Metric)
		}
	}
	for i, o := range a.OrderParameters {
		p := trials[i].Params
		want := trials[i].Result.Metrics["score"] - (0.5 + 0.01*p["seed"] + p["width"]*math.Max(0, math.Log(grid[0]/eta0)))
		if math.Abs(o.Drop-want) > 1e-12 {
			t.Fatalf("trial %d: change %g, want %g", i, o.Drop, want)
		}
	}
}

// A level instead of the plateau: learned from where max_eos_ratio first
// passes 1 on, also where it falls back below (far above the edge, as
// measured runs do); no onset is fitted.
func TestMetricLevel(t *testing.T) {
	t.Parallel()
	const eta0 = 0.01
	grid := logGrid(0.002, 0.05, 30)
	trials := metricTrials([]float64{1}, 4, grid, func(eta, seed, _ float64) engine.Result {
		// η·S/2 grows with η up to the edge of stability at eta0·(1 + seed/100), then stays just above 1;
		// two seeds fall back below it past 2·eta0.
		edge := eta0 * (1 + seed/100)
		if eta > 2*eta0 && seed < 2 {
			return engine.Result{MaxEOSRatio: 0.97}
		}
		return engine.Result{MaxEOSRatio: math.Min(eta/edge, 1.001)}
	})
	one := 1.0
	a, err := Analyze(trials, Options{Model: engine.ModelExec, Metric: Metric{Name: "max_eos_ratio", Sense: SenseRise, Level: &one}})
	if err != nil {
		t.Fatal(err)
	}
	g := a.Groups[0]
	if g.Crossing != CrossingInside || g.Bracket.Low > eta0*1.015 || g.Bracket.High < eta0*1.015 {
		t.Errorf("bracket %+v (%s), want around %g", g.Bracket, g.Crossing, eta0*1.015)
	}
	if g.OnsetForm != OnsetNone || g.Onset != 0 {
		t.Errorf("onset %g (%s), want none for a level", g.Onset, g.OnsetForm)
	}
	if math.Abs(g.EtaStar/(eta0*1.015)-1) > 0.05 {
		t.Errorf("η* = %g, want ≈ %g", g.EtaStar, eta0*1.015)
	}
	for i, o := range a.OrderParameters {
		p := trials[i].Params
		if want := p["eta"] > eta0*(1+p["seed"]/100); o.Plateau != 1 || o.Learned != want {
			t.Fatalf("trial %v: %+v, want plateau 1 (the level), learned %v", p, o, want)
		}
	}
}

// Trials without the metric count as diverged; a metric no trial reports,
// an exec trial without eta and an unknown sense are refused.
func TestMetricErrors(t *testing.T) {
	t.Parallel()
	grid := logGrid(0.01, 0.1, 5)
	trials := metricTrials([]float64{1}, 2, grid, func(eta, _, _ float64) engine.Result {
		if eta > 0.05 {
			return engine.Result{} // no "score"
		}
		return engine.Result{Metrics: map[string]float64{"score": 1}}
	})
	a, err := Analyze(trials, Options{Model: engine.ModelExec, Metric: Metric{Name: "score"}})
	if err != nil {
		t.Fatal(err)
	}
	last := a.Groups[0].Rows[len(grid)-1]
	if last.Diverged != 2 {
		t.Errorf("row without the metric: %+v, want both seeds counted apart", last)
	}
	if _, err := Analyze(trials, Options{Model: engine.ModelExec, Metric: Metric{Name: "val_loss"}}); !errors.Is(err, ErrNoMetric) {
		t.Errorf("absent metric: %v, want ErrNoMetric", err)
	}
	noEta := []Trial{{Params: map[string]float64{"lr": 1}, Result: engine.Result{}}}
	if _, err := Analyze(noEta, Options{Model: engine.ModelExec}); err == nil || !strings.Contains(err.Error(), `"eta"`) {
		t.Errorf("no eta: %v, want an error naming eta", err)
	}
	if _, err := Analyze(trials, Options{Model: engine.ModelExec, Metric: Metric{Name: "score", Sense: "up"}}); err == nil ||
		!strings.Contains(err.Error(), `sense "up"`) {
		t.Errorf("bad sense: %v", err)
	}
}

// The default metric is final_bias dropping against the plateau, however
// spelled; SideBySide puts the metrics of one group next to each other.
func TestMetricDefaultAndSideBySide(t *testing.T) {
	t.Parallel()
	grid := logGrid(1e-3, 1e-2, 8)
	var trials []Trial
	for _, w := range []float64{100, 200} {
		for _, eta := range grid {
			for s := range 2 {
				tr := trial(eta, float64(s), map[string]float64{"width": w}, -0.1-math.Max(0, math.Log(eta/3e-3)), 1)
				tr.Result.MaxEOSRatio = math.Min(eta/3e-3, 1.01)
				trials = append(trials, tr)
			}
		}
	}
	base := Options{Model: engine.ModelSparse, GroupBy: []string{"width"}}
	explicit := base
	explicit.Metric = Metric{Name: "final_bias", Sense: SenseDrop}
	a1, err1 := Analyze(trials, base)
	a2, err2 := Analyze(trials, explicit)
	if err1 != nil || err2 != nil || a1.Groups[0].EtaStar != a2.Groups[0].EtaStar || !explicit.Metric.IsDefault() {
		t.Fatalf("default vs explicit final_bias: %v %v %+v %+v", err1, err2, a1.Groups[0], a2.Groups[0])
	}
	one := 1.0
	eos := base
	eos.Metric = Metric{Name: "max_eos_ratio", Sense: SenseRise, Level: &one}
	as, err := AnalyzeEach(trials, nil, []Options{base, eos})
	if err != nil {
		t.Fatal(err)
	}
	got := SideBySide(as)
	var names []string
	for _, g := range got {
		names = append(names, g.Metric.String()+"@"+GroupName([]string{"width"}, g.Key))
	}
	want := "final_bias drop@width=100 max_eos_ratio rise past 1@width=100 final_bias drop@width=200 max_eos_ratio rise past 1@width=200"
	if strings.Join(names, " ") != want {
		t.Errorf("SideBySide order:\n got %s\nwant %s", strings.Join(names, " "), want)
	}
}

// The table names the metric only when some group's is not the default; the
// CSV always ends with metric, sense and level (a fixed set of columns).
func TestRenderMetricColumn(t *testing.T) {
	t.Parallel()
	groups := renderGroups()
	var plain, plainCSV bytes.Buffer
	if err := WriteTable(&plain, groups); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "metric") {
		t.Errorf("default metric shown:\n%s", plain.String())
	}
	if err := WriteCSV(&plainCSV, groups); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(plainCSV.String(), "\n"); !strings.HasPrefix(first, "width,crossing,") ||
		!strings.HasSuffix(first, ",diverged_trials,metric,sense,level") || !strings.Contains(plainCSV.String(), ",final_bias,drop,\n") {
		t.Errorf("csv of the default metric:\n%s", plainCSV.String())
	}
	one := 1.0
	groups[1].Metric = Metric{Name: "max_eos_ratio", Sense: SenseRise, Level: &one}
	var table, csvOut, js bytes.Buffer
	if err := WriteTable(&table, groups); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	if !strings.HasPrefix(lines[0], "metric") || !strings.HasPrefix(lines[1], "final_bias drop") ||
		!strings.HasPrefix(lines[2], "max_eos_ratio rise past 1") {
		t.Errorf("table:\n%s", table.String())
	}
	if err := WriteCSV(&csvOut, groups); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csvOut.String(), "width,crossing") || !strings.Contains(csvOut.String(), ",max_eos_ratio,rise,1\n") {
		t.Errorf("csv:\n%s", csvOut.String())
	}
	if err := WriteJSON(&js, groups); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"metric": "max_eos_ratio"`) || !strings.Contains(js.String(), `"sense": "rise"`) ||
		!strings.Contains(js.String(), `"level": 1`) || !strings.Contains(js.String(), `"metric": "final_bias"`) {
		t.Errorf("json:\n%s", js.String())
	}
}

// Several metrics of an incomplete exec sweep: every analysis marks the same
// missing trials; a trial that lacks one metric (but did not diverge) is
// left out of that metric's fit without being called diverged; the table's
// notes name each group's missing trials once, not once per metric.
func TestMetricsOfAnIncompleteSweep(t *testing.T) {
	t.Parallel()
	grid := logGrid(0.005, 0.08, 9)
	trials := metricTrials([]float64{1}, 2, grid, func(eta, seed, w float64) engine.Result {
		return engine.Result{FinalBias: -math.Max(0, math.Log(eta/0.02)),
			Metrics: map[string]float64{"score": math.Max(0, math.Log(eta/0.02))}}
	})
	trials[3].Result.Metrics = nil // reported final_bias only
	trials[5].Result.Diverged = true
	trials[5].ID = "div"
	miss := []MissingTrial{{ID: "gone", Params: map[string]float64{"eta": 0.03, "seed": 0, "width": 1}, State: "failed", Error: "exit status 2"}}
	base := Options{Model: engine.ModelExec, GroupBy: []string{"width"}}
	score := base
	score.Metric = Metric{Name: "score", Sense: SenseRise}
	as, err := AnalyzeEach(trials, miss, []Options{base, score})
	if err != nil {
		t.Fatal(err)
	}
	groups := SideBySide(as)
	if len(groups) != 2 {
		t.Fatalf("%d groups, want one per metric", len(groups))
	}
	for _, g := range groups {
		if !g.Incomplete || len(g.Missing) != 1 || g.Missing[0].Trial != "gone" {
			t.Errorf("%s: incomplete %v, missing %v", g.Metric, g.Incomplete, g.Missing)
		}
		if len(g.Diverged) != 1 || g.Diverged[0].Trial != "div" {
			t.Errorf("%s: diverged marks %v, want only the diverged trial", g.Metric, g.Diverged)
		}
	}
	var table bytes.Buffer
	if err := WriteTable(&table, groups); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(table.String(), "have no result"); n != 1 {
		t.Errorf("the missing trial is noted %d times:\n%s", n, table.String())
	}
}
