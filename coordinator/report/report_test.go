package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// synthetic is a sparse-like sweep over widths, 3 seeds with different
// plateaus, a drop of 0.6·log(η/η*) above η* = 8π/d², test accuracy rising
// with the drop, one diverged trial, and a short trajectory per trial.
func synthetic() []boundary.Trial {
	var trials []boundary.Trial
	for _, d := range []float64{100, 200} {
		star := 8 * math.Pi / (d * d)
		for seed := range 3 {
			plateau := -0.1 * float64(1+seed)
			for k := range 10 {
				eta := 1e-4 * math.Pow(200, float64(k)/9)
				drop := 0.6 * math.Max(math.Log(eta/star), 0)
				r := engine.Result{
					FinalBias: plateau - drop, InitialSharpness: d * d / (4 * math.Pi),
					EOSRatio: math.Min(1, eta*d*d/(8*math.Pi)), MaxEOSRatio: math.Min(1.01, eta*d*d/(8*math.Pi)), TestAcc: ptr(0.55 + 0.05*drop), StepsRun: 100,
				}
				for s := 0; s <= 100; s += 10 {
					r.Trajectory = append(r.Trajectory, engine.Point{
						Step: s, Loss: 0.7 * math.Exp(-float64(s)/50), Bias: plateau - drop*float64(s)/100,
						Sharpness: 2 / eta * (0.5 + 0.5*math.Sin(float64(s))),
					})
				}
				if k == 9 && seed == 2 {
					r.Diverged = true
				}
				trials = append(trials, boundary.Trial{Params: map[string]float64{"eta": eta, "seed": float64(seed), "width": d, "n": 300}, Result: r})
			}
		}
	}
	return trials
}

// syntheticOptions are the analysis options of synthetic's sweep.
var syntheticOptions = boundary.Options{Model: engine.ModelSparse, GroupBy: []string{"width"}, BiasEps: 0.01}

func writeSynthetic(t *testing.T, opt Options) (string, []boundary.Trial, []boundary.Group) {
	t.Helper()
	trials := synthetic()
	a, err := boundary.Analyze(trials, syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "report")
	if err := Write(dir, a, opt); err != nil {
		t.Fatal(err)
	}
	return dir, trials, a.Groups
}

// The PNGs are not blank: many distinct colours (axes, text, curves, the
// colour map).
func TestPNGsNotBlank(t *testing.T) {
	t.Parallel()
	for _, f := range allFigures(t, syntheticData(t), DoubleColumn) {
		var buf bytes.Buffer
		if err := f.Render(&buf, PNG, 72); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		want := 8
		if f.Name == PhaseName {
			want = 40 // the colour bar alone has dozens of shades
		}
		if n := distinctColors(img); n < want {
			t.Errorf("%s: %d distinct colours, want ≥ %d (blank plot?)", f.Name, n, want)
		}
	}
}

func TestWriteTrialsCSVAndBoundaryJSON(t *testing.T) {
	t.Parallel()
	dir, trials, groups := writeSynthetic(t, Options{DPI: 30, Figures: []string{TrajectoryName}})
	f, err := os.Open(filepath.Join(dir, TrialsCSV))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(trials)+1 {
		t.Fatalf("%d csv rows, want %d + header", len(recs)-1, len(trials))
	}
	header := recs[0]
	for _, col := range append(engine.ParamNames(engine.ModelSparse), "final_bias", "min_bias", "bias_negative",
		"initial_sharpness", "final_sharpness", "eos_ratio", "max_eos_ratio", "max_eos_ratio_after_init", "final_loss", "train_acc", "test_acc",
		"steps_run", "diverged", "dead", "wall_ms", "group", "plateau", "drop", "learned") {
		if !slices.Contains(header, col) {
			t.Errorf("trials.csv lacks column %q (have %v)", col, header)
		}
	}
	if slices.Contains(header, "trajectory") {
		t.Error("trials.csv has the trajectory column")
	}
	col := func(name string) int { return slices.Index(header, name) }
	var learned, diverged int
	for _, r := range recs[1:] {
		if r[col("learned")] == "true" {
			learned++
		}
		if r[col("diverged")] == "true" {
			diverged++
		}
		if r[col("lam")] != "3" || r[col("n")] != "300" { // default and given parameters
			t.Errorf("row %v: lam %s n %s", r, r[col("lam")], r[col("n")])
		}
	}
	var wantLearned int
	for _, g := range groups {
		for _, r := range g.Rows {
			wantLearned += r.Learned
		}
	}
	if learned != wantLearned || diverged != 2 {
		t.Errorf("csv: %d learned, %d diverged; want %d and 2", learned, diverged, wantLearned)
	}

	data, err := os.ReadFile(filepath.Join(dir, BoundaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	var recsJSON []boundary.Record
	if err := json.Unmarshal(data, &recsJSON); err != nil {
		t.Fatal(err)
	}
	if len(recsJSON) != 2 || recsJSON[0].Group["width"] != 100 || recsJSON[0].Theory == nil ||
		recsJSON[0].CI[0] > recsJSON[0].EtaStar || recsJSON[0].Rows != nil {
		t.Errorf("boundary.json: %s", data)
	}
	if _, err := os.Stat(filepath.Join(dir, BoundaryTable)); err != nil {
		t.Error(err)
	}
}

func TestTrajectorySelection(t *testing.T) {
	t.Parallel()
	trials := synthetic()
	a, err := boundary.Analyze(trials, syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	groups := a.Groups
	var opt Options
	d, err := NewData(a, opt)
	if err != nil {
		t.Fatal(err)
	}
	auto := trials[pickTrajectory(d, opt)].Params
	if auto["width"] != 100 || auto["seed"] != 0 || math.Abs(math.Log(auto["eta"]/(1.5*groups[0].EtaStar))) > math.Log(200)/9 {
		t.Errorf("automatic trajectory %v, want width 100, seed 0, η near 1.5·η* = %g", auto, 1.5*groups[0].EtaStar)
	}
	opt.Trajectory = map[string]float64{"width": 200, "seed": 2}
	if got := trials[pickTrajectory(d, opt)].Params; got["width"] != 200 || got["seed"] != 2 || got["eta"] != 1e-4 {
		t.Errorf("selected trajectory %v, want the first of width 200 seed 2", got)
	}
	opt.Trajectory = map[string]float64{"width": 200, "seed": 1, "eta": 3.3e-4} // grid η 3.25e-4, rounded
	if got := trials[pickTrajectory(d, opt)].Params; got["seed"] != 1 || math.Abs(got["eta"]/3.3e-4-1) > 0.02 {
		t.Errorf("selected trajectory %v, want seed 1 at the η nearest 3.3e-4", got)
	}
	opt.Trajectory = map[string]float64{"width": 300}
	if i := pickTrajectory(d, opt); i != -1 {
		t.Errorf("a selection matching nothing picked %d", i)
	}
}

func TestGroupFile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		key  map[string]float64
		want string
	}{
		{nil, "group-all"},
		{map[string]float64{"width": 200}, "group-width-200"},
		{map[string]float64{"x0": 2, "init_scale": 0.01}, "group-init_scale-0.01-x0-2"},
	} {
		if got := GroupFile(c.key); got != c.want {
			t.Errorf("GroupFile(%v) = %q, want %q", c.key, got, c.want)
		}
		if got := GroupPNG(c.key); got != c.want+".png" {
			t.Errorf("GroupPNG(%v) = %q, want %q", c.key, got, c.want+".png")
		}
	}
}

func distinctColors(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

// Write draws the analysis it is given: trials.csv shows the order
// parameters passed in (here one altered by hand), not ones it computed again,
// and an analysis whose order parameters do not match its trials is refused.
func TestWriteTakesTheAnalysis(t *testing.T) {
	t.Parallel()
	a, err := boundary.Analyze(synthetic(), syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	a.OrderParameters[0].Plateau, a.OrderParameters[0].Drop = 42, 43
	dir := t.TempDir()
	if err := Write(dir, a, Options{DPI: 30, Figures: []string{TrajectoryName}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, TrialsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), ",42,43,") {
		t.Errorf("trials.csv does not show the order parameter given (plateau 42, drop 43):\n%.400s", data)
	}
	a.OrderParameters = a.OrderParameters[1:]
	if err := Write(t.TempDir(), a, Options{}); err == nil || !strings.Contains(err.Error(), "order parameters") {
		t.Errorf("an analysis with %d order parameters for %d trials: error %v", len(a.OrderParameters), len(a.Trials), err)
	}
}

func ptr(v float64) *float64 { return &v }

// A report of an incomplete sweep says which trials are missing and why:
// trials.csv has a row for each (state, error, empty results), boundary.json
// marks the group, boundary.txt lists them under the table.
func TestWriteIncomplete(t *testing.T) {
	t.Parallel()
	trials := synthetic()
	var done []boundary.Trial
	var missing []boundary.MissingTrial
	for i, tr := range trials {
		tr.ID = fmt.Sprintf("t%03d", i)
		if tr.Params["width"] == 200 && tr.Params["eta"] > 5e-4 && tr.Params["eta"] < 6e-4 { // just below η*
			missing = append(missing, boundary.MissingTrial{ID: tr.ID, Params: tr.Params, State: "failed", Attempt: 1,
				Error: "lease of worker w1 expired"})
			continue
		}
		done = append(done, tr)
	}
	if len(missing) == 0 {
		t.Fatal("fixture: no trial near η* of width 200")
	}
	a, err := boundary.AnalyzeIncomplete(done, missing, syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "report")
	if err := Write(dir, a, Options{DPI: 30}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, TrialsCSV))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(trials)+1 || recs[0][0] != "trial" {
		t.Fatalf("%d rows, first column %q; want %d + header, trial", len(recs)-1, recs[0][0], len(trials))
	}
	col := func(name string) int { return slices.Index(recs[0], name) }
	failed := 0
	for _, r := range recs[1:] {
		switch r[col("state")] {
		case "failed":
			failed++
			if r[col("error")] != "lease of worker w1 expired" || r[col("final_bias")] != "" || r[col("group")] != "width=200" || r[col("learned")] != "" {
				t.Errorf("failed row %v", r)
			}
		case "done":
			if r[col("trial")] == "" || r[col("final_bias")] == "" {
				t.Errorf("done row %v", r)
			}
		default:
			t.Errorf("row state %q", r[col("state")])
		}
	}
	if failed != len(missing) {
		t.Errorf("%d failed rows, want %d", failed, len(missing))
	}
	var recsJSON []map[string]any
	data, err := os.ReadFile(filepath.Join(dir, BoundaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &recsJSON); err != nil {
		t.Fatal(err)
	}
	if recsJSON[0]["incomplete"] != false || recsJSON[1]["incomplete"] != true || len(recsJSON[1]["missing"].([]any)) != len(missing) {
		t.Errorf("boundary.json incomplete %v %v, missing %v", recsJSON[0]["incomplete"], recsJSON[1]["incomplete"], recsJSON[1]["missing"])
	}
	txt, err := os.ReadFile(filepath.Join(dir, BoundaryTable))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(txt), "width=200: 3 of 30 trials have no result") || !strings.Contains(string(txt), "lease of worker w1 expired") {
		t.Errorf("boundary.txt:\n%s", txt)
	}
}

// Options that name nothing in the sweep are refused with what there is.
func TestWriteRefusesUnknownSelections(t *testing.T) {
	t.Parallel()
	a, err := boundary.Analyze(synthetic(), syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opt  Options
		want error
		text []string
	}{
		{Options{Axis: "nope"}, ErrUnknownAxis, []string{`axis "nope"`, "group axes: width"}},
		{Options{Trajectory: map[string]float64{"eta": 5}}, ErrNoTrajectory, []string{"eta=5", "eta values there: 0.0001, 0.0001802"}},
		{Options{Trajectory: map[string]float64{"width": 3}}, ErrNoTrajectory, []string{"width=3", "width values there: 100, 200"}},
		{Options{Trajectory: map[string]float64{"width": 100, "seed": 7}}, ErrNoTrajectory, []string{"seed=7", "seed values there: 0, 1, 2"}},
	} {
		err := Write(filepath.Join(t.TempDir(), "r"), a, Options{DPI: 30, Axis: c.opt.Axis, Trajectory: c.opt.Trajectory})
		if !errors.Is(err, c.want) {
			t.Errorf("%+v: error %v, want %v", c.opt, err, c.want)
			continue
		}
		for _, w := range c.text {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q lacks %q", c.opt, err, w)
			}
		}
	}
	// A rounded η from a table still selects its trial.
	if err := Write(filepath.Join(t.TempDir(), "r"), a, Options{DPI: 30, Trajectory: map[string]float64{"eta": 1.8e-4}}); err != nil {
		t.Errorf("eta=1.8e-4 (rounded): %v", err)
	}
}

// The report of an exec sweep with two boundary metrics and a failed trial:
// trials.csv lists the program's free-form parameters as given and its
// metrics (an empty cell where a trial lacks one, and on the missing row),
// trajectories.csv reads η, seed and width from those parameters,
// boundary.json holds both metrics' boundaries (Options.Boundaries), and
// every figure is drawn.
func TestWriteExecSweep(t *testing.T) {
	t.Parallel()
	var done []boundary.Trial
	for _, w := range []float64{64, 256} {
		for seed := range 2 {
			for k := range 8 {
				eta := 1e-3 * math.Pow(2, float64(k))
				drop := math.Max(0, math.Log(eta/0.02))
				r := engine.Result{FinalBias: -drop, StepsRun: 10, Metrics: map[string]float64{"val_loss": 1 + drop},
					Trajectory: []engine.Point{{Step: 0, Loss: 1}, {Step: 10, Loss: 0.5, Bias: -drop}}}
				if k == 3 && seed == 1 {
					r.Metrics = nil
				}
				done = append(done, boundary.Trial{ID: fmt.Sprintf("w%g-s%d-k%d", w, seed, k),
					Params: map[string]float64{"eta": eta, "seed": float64(seed), "width": w, "horizon": 10}, Result: r})
			}
		}
	}
	missing := []boundary.MissingTrial{{ID: "gone", Params: map[string]float64{"eta": 0.5, "seed": 0, "width": 64, "horizon": 10},
		State: "failed", Attempt: 3, Error: "exit status 1"}}
	base := boundary.Options{Model: engine.ModelExec, GroupBy: []string{"width"}, BiasEps: 0.05}
	loss := base
	loss.Metric = boundary.Metric{Name: "val_loss", Sense: boundary.SenseRise}
	as, err := boundary.AnalyzeEach(done, missing, []boundary.Options{base, loss})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "report")
	if err := Write(dir, as[0], Options{DPI: 30, Boundaries: boundary.SideBySide(as)}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	trials := read(TrialsCSV)
	head := trials[0]
	col := func(name string) int { return slices.Index(head, name) }
	if !slices.Equal(head[:5], []string{"trial", "eta", "horizon", "seed", "width"}) || col("val_loss") < col("wall_ms") || col("val_loss") > col("group") {
		t.Fatalf("trials.csv header %v", head)
	}
	if len(trials) != len(done)+len(missing)+1 {
		t.Fatalf("%d rows", len(trials)-1)
	}
	for _, r := range trials[1:] {
		switch id := r[col("trial")]; {
		case id == "gone":
			if r[col("state")] != "failed" || r[col("val_loss")] != "" || r[col("width")] != "64" || r[col("group")] != "width=64" {
				t.Errorf("missing row %v", r)
			}
		case id == "w64-s1-k3" || id == "w256-s1-k3":
			if r[col("val_loss")] != "" {
				t.Errorf("%s lacks val_loss, row %v", id, r)
			}
		case r[col("val_loss")] == "":
			t.Errorf("%s: no val_loss cell", id)
		}
	}
	traj := read(TrajectoriesCSV)
	if len(traj) != 2*len(done)+1 || traj[1][3] == "" {
		t.Errorf("trajectories.csv: %d rows, first %v", len(traj)-1, traj[1])
	}
	var recs []boundary.Record
	data, err := os.ReadFile(filepath.Join(dir, BoundaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0].Metric != "final_bias" || recs[1].Metric != "val_loss" || recs[1].Sense != boundary.SenseRise || !recs[0].Incomplete {
		t.Errorf("boundary.json: %+v", recs)
	}
	for _, name := range []string{PhasePNG, OverviewPNG, TrajectoryPNG, GroupFile(map[string]float64{"width": 64}) + ".png"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}
