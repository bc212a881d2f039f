package spec

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

const figure1 = `
name: figure1-widths
model: sparse
grid:
  eta: {logspace: [1.0e-4, 2.0e-2, 12]}
  width: [100, 200, 400]
  seed: {range: [0, 5]}
params: {n: 300, lam: 3, horizon: 10}
boundary:
  bias_eps: 1.0e-2
  refine: {rounds: 4, tolerance: 0.02}
`

func TestParseFigure1(t *testing.T) {
	t.Parallel()
	s, err := Parse([]byte(figure1), 0)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(trials), 12*3*5; got != want {
		t.Fatalf("trials = %d, want %d", got, want)
	}
	eta := s.Grid[0]
	if eta.Name != "eta" || eta.Values[0] != 1e-4 || eta.Values[11] != 2e-2 {
		t.Fatalf("eta axis = %+v", eta)
	}
	// logspace: constant ratio between neighbours.
	r := eta.Values[1] / eta.Values[0]
	for i := 2; i < len(eta.Values); i++ {
		if got := eta.Values[i] / eta.Values[i-1]; math.Abs(got-r) > 1e-9*r {
			t.Fatalf("ratio %d = %v, want %v", i, got, r)
		}
	}
	if want := math.Pow(200, 1.0/11); math.Abs(r-want) > 1e-12 {
		t.Fatalf("ratio = %v, want %v", r, want)
	}
	if g := s.GroupBy(); len(g) != 1 || g[0] != "width" {
		t.Fatalf("GroupBy = %v", g)
	}
	if s.Boundary.Refine.Rounds != 4 || s.Boundary.Refine.Tolerance != 0.02 || s.BiasEps() != 0.01 {
		t.Fatalf("boundary = %+v", s.Boundary)
	}
	ids := map[string]bool{}
	for _, tr := range trials {
		ids[tr.ID] = true
		if tr.Config.Steps != int(math.Ceil(10/tr.Params["eta"])) {
			t.Fatalf("steps = %d for eta %v", tr.Config.Steps, tr.Params["eta"])
		}
	}
	if len(ids) != len(trials) {
		t.Fatalf("%d distinct ids for %d trials", len(ids), len(trials))
	}
}

func TestIDIgnoresFormatting(t *testing.T) {
	t.Parallel()
	a := "model: single\ngrid:\n  eta: [1, 2]\n  seed: [0, 1]\nparams: {steps: 10}\n"
	b := "# same sweep\nparams:\n  steps: 10.0\ngrid: {seed: {range: [0, 2]}, eta: {linspace: [1, 2, 2]}}\nmodel: single\n"
	c := "model: single\ngrid:\n  eta: [1, 2]\n  seed: [0, 1]\nparams: {steps: 11}\n"
	sa, sb, sc := mustParse(t, a), mustParse(t, b), mustParse(t, c)
	if sa.ID() != sb.ID() {
		t.Fatalf("same spec, different ids %s %s", sa.ID(), sb.ID())
	}
	if sa.ID() == sc.ID() {
		t.Fatalf("different specs, same id %s", sa.ID())
	}
	ta, _ := sa.Trials()
	tc, _ := sc.Trials()
	if ta[0].ID == tc[0].ID {
		t.Fatal("steps=10 and steps=11 trials share an id")
	}
}

func TestDefaultsDoNotChangeIdentity(t *testing.T) {
	t.Parallel()
	// Giving a default explicitly resolves to the same configuration.
	a, err := NewTrial("single", map[string]float64{"eta": 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTrial("single", map[string]float64{"eta": 1, "x0": 2})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Fatalf("ids differ: %s %s", a.ID, b.ID)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown model", "model: cnn\ngrid: {eta: [1]}", "model"},
		{"unknown grid param", "model: single\ngrid: {eta: [1], depth: [2]}", "grid.depth"},
		{"unknown fixed param", "model: single\ngrid: {eta: [1]}\nparams: {depth: 2}", "params.depth"},
		{"eta zero", "model: single\ngrid: {eta: [0, 1]}", `"eta"`},
		{"eta negative linspace", "model: single\ngrid: {eta: {linspace: [-1, 1, 3]}}", `"eta"`},
		{"width zero", "model: mean\ngrid: {eta: [1], width: [0]}", `"width"`},
		{"nan in grid", "model: single\ngrid: {eta: [.nan]}", "grid.eta"},
		{"nan in params", "model: single\ngrid: {eta: [1]}\nparams: {x0: .nan}", "params.x0"},
		{"empty grid", "model: single\ngrid: {}", "grid"},
		{"no grid", "model: single\nparams: {eta: 1}", "grid"},
		{"empty axis", "model: single\ngrid: {eta: []}", "grid.eta"},
		{"too many", "model: single\ngrid: {eta: {linspace: [1, 2, 300]}, seed: {range: [0, 400]}}", "grid: has 120,000 trials; the limit is 10,000 (raise it with --max-trials)"},
		{"unknown key", "model: single\ngrid: {eta: [1]}\nrepeat: 3", "repeat"},
		{"unknown boundary key", "model: single\ngrid: {eta: [1]}\nboundary: {eps: 1}", "eps"},
		{"both grid and params", "model: single\ngrid: {eta: [1]}\nparams: {eta: 2}", "grid.eta"},
		{"bad generator", "model: single\ngrid: {eta: {geomspace: [1, 2, 3]}}", "geomspace"},
		{"logspace exponents", "model: single\ngrid: {eta: {logspace: [-4, -2, 3]}}", "logspace"},
		{"range hi excl", "model: single\ngrid: {eta: [1], seed: {range: [3, 3]}}", "grid.seed"},
		{"fractional n", "model: single\ngrid: {eta: {linspace: [1, 2, 2.5]}}", "n = 2.5"},
		{"scalar axis", "model: single\ngrid: {eta: 1}", "grid.eta"},
		{"no eta", "model: single\ngrid: {seed: [1]}", `"eta"`},
		{"steps and horizon", "model: sparse\ngrid: {eta: [1]}\nparams: {steps: 3, horizon: 2}", "horizon"},
		{"negative rounds", "model: single\ngrid: {eta: [1]}\nboundary: {refine: {rounds: -1}}", "boundary.refine.rounds"},
		{"no tolerance", "model: single\ngrid: {eta: [1]}\nboundary: {refine: {rounds: 2}}", "boundary.refine.tolerance"},
		{"bad bias_eps", "model: single\ngrid: {eta: [1]}\nboundary: {bias_eps: -1}", "boundary.bias_eps"},
		{"not yaml", "model: [", "yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.yaml), 10_000)
			if err == nil {
				t.Fatalf("accepted %q", c.yaml)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name %q", err, c.want)
			}
		})
	}
}

func TestAxisGenerators(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "model: mean\ngrid: {eta: {linspace: [0.5, 1.5, 5]}, width: {range: [1, 9, 3]}, seed: [2]}")
	want := map[string][]float64{"eta": {0.5, 0.75, 1, 1.25, 1.5}, "width": {1, 4, 7}, "seed": {2}}
	for _, a := range s.Grid {
		w := want[a.Name]
		if len(a.Values) != len(w) {
			t.Fatalf("%s = %v, want %v", a.Name, a.Values, w)
		}
		for i := range w {
			if math.Abs(a.Values[i]-w[i]) > 1e-15 {
				t.Fatalf("%s = %v, want %v", a.Name, a.Values, w)
			}
		}
	}
}

func mustParse(t *testing.T, y string) *Spec {
	t.Helper()
	s, err := Parse([]byte(y), 0)
	if err != nil {
		t.Fatalf("parse %q: %v", y, err)
	}
	return s
}

func TestAnalysisOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, yaml string
		want       boundary.Options
	}{
		{"from the spec", "model: sparse\ngrid:\n  eta: [1e-4, 2e-4]\n  width: [100, 200]\n  seed: [0, 1]\n" +
			"boundary: {bias_eps: 0.02, reference_eta: 1e-4}\n",
			boundary.Options{Model: "sparse", GroupBy: []string{"width"}, BiasEps: 0.02, ReferenceEta: 1e-4}},
		{"bias_eps from params", "model: mean\ngrid:\n  eta: [1, 2]\nparams: {bias_eps: 0.03}\n",
			boundary.Options{Model: "mean", BiasEps: 0.03}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(c.yaml), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Analysis(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Analysis() = %+v, want %+v", got, c.want)
			}
		})
	}
}
