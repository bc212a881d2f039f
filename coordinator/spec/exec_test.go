package spec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

const execSpec = `
name: my-lr-sweep
model: exec
exec:
  command: [python3, train.py, --lr, "{eta}", --seed, "{seed}", --width, "{width}", "--horizon={horizon}"]
  env: {OMP_NUM_THREADS: "1"}
  workdir: /shared/project
  timeout: 10m
grid:
  eta: {logspace: [1.0e-3, 1.0, 12]}
  seed: {range: [0, 5]}
  width: [64, 256]
params: {horizon: 10}
boundary:
  metric: val_loss
  sense: rise
  bias_eps: 1.0e-2
  refine: {rounds: 4, tolerance: 0.02}
`

func TestParseExec(t *testing.T) {
	t.Parallel()
	s := mustParse(t, execSpec)
	want := &Exec{Command: []string{"python3", "train.py", "--lr", "{eta}", "--seed", "{seed}", "--width", "{width}", "--horizon={horizon}"},
		Env: map[string]string{"OMP_NUM_THREADS": "1"}, Workdir: "/shared/project", Timeout: 10 * time.Minute}
	if !reflect.DeepEqual(s.Exec, want) {
		t.Fatalf("exec = %+v, want %+v", s.Exec, want)
	}
	trials, err := s.Trials()
	if err != nil || len(trials) != 12*5*2 {
		t.Fatalf("trials: %d, %v", len(trials), err)
	}
	ids := map[string]bool{}
	for _, tr := range trials {
		ids[tr.ID] = true
		if tr.Steps != NoSteps || tr.Config.Model != "" || !strings.HasPrefix(tr.Key, `exec ["python3","train.py"`) {
			t.Fatalf("trial %+v", tr)
		}
	}
	if len(ids) != len(trials) {
		t.Fatalf("%d distinct ids for %d trials", len(ids), len(trials))
	}
	if g := s.GroupBy(); !reflect.DeepEqual(g, []string{"width"}) {
		t.Errorf("GroupBy = %v", g)
	}
	a := s.Analysis()
	if a.Model != engine.ModelExec || a.BiasEps != 0.01 || a.Metric != (boundary.Metric{Name: "val_loss", Sense: boundary.SenseRise}) {
		t.Errorf("Analysis = %+v", a)
	}
	// A refinement point is a trial of the same template.
	p := map[string]float64{"eta": 0.0123, "seed": 1, "width": 64, "horizon": 10}
	tr, err := s.NewTrial(p)
	if err != nil || tr.Steps != NoSteps || !strings.HasSuffix(tr.Key, " eta=0.0123 horizon=10 seed=1 width=64") {
		t.Fatalf("NewTrial = %+v, %v", tr, err)
	}
}

// Trial identity hashes the command template and the parameters: the same
// parameters under another template are another trial; the env, workdir and
// timeout are not part of it.
func TestExecTrialIdentity(t *testing.T) {
	t.Parallel()
	base := "model: exec\nexec: {command: [prog, \"{eta}\"], timeout: 1m%s}\ngrid: {eta: [0.5]}\n"
	a := mustParse(t, strings.Replace(base, "%s", "", 1))
	b := mustParse(t, strings.Replace(base, "%s", ", env: {A: b}, workdir: /tmp", 1))
	c := mustParse(t, strings.Replace(strings.Replace(base, "%s", "", 1), `"{eta}"`, `"--lr={eta}"`, 1))
	ta, _ := a.Trials()
	tb, _ := b.Trials()
	tc, _ := c.Trials()
	if ta[0].ID != tb[0].ID {
		t.Errorf("env/workdir changed the trial id: %s vs %s", ta[0].ID, tb[0].ID)
	}
	if ta[0].ID == tc[0].ID {
		t.Errorf("another template, same trial id %s", ta[0].ID)
	}
	if a.ID() == b.ID() || a.ID() == c.ID() {
		t.Errorf("different exec blocks, same sweep id")
	}
	if again := mustParse(t, strings.Replace(base, "%s", "", 1)); again.ID() != a.ID() {
		t.Errorf("reparse changed the sweep id")
	}
}

func TestParseExecErrors(t *testing.T) {
	t.Parallel()
	ok := "  command: [prog, \"{eta}\"]\n  timeout: 1m\n"
	long := strings.Repeat("a", MaxExecArgBytes+1)
	cases := []struct{ name, yaml, want string }{
		{"no exec block", "model: exec\ngrid: {eta: [1]}", "exec: required for model exec"},
		{"exec on native", "model: single\ngrid: {eta: [1]}\nexec:\n" + ok, "exec: only for model exec"},
		{"empty command", "model: exec\ngrid: {eta: [1]}\nexec: {command: [], timeout: 1m}", "exec.command: empty"},
		{"no command", "model: exec\ngrid: {eta: [1]}\nexec: {timeout: 1m}", "exec.command: empty"},
		{"empty program", "model: exec\ngrid: {eta: [1]}\nexec: {command: [\"\"], timeout: 1m}", "exec.command: empty"},
		{"no timeout", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog]}", "exec.timeout: required"},
		{"bad timeout", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog], timeout: soon}", "exec.timeout: \"soon\""},
		{"zero timeout", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog], timeout: 0s}", "exec.timeout"},
		{"huge timeout", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog], timeout: 10000h}", "exec.timeout"},
		{"unknown placeholder", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog, \"--lr={lr}\"], timeout: 1m}", "exec.command[1]: unknown placeholder {lr}"},
		{"placeholder program", "model: exec\ngrid: {eta: [1]}\nexec: {command: [\"{eta}\"], timeout: 1m}", "exec.command[0]: the program"},
		{"long arg", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog, " + long + "], timeout: 1m}", "exec.command[1]"},
		{"env name", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog], timeout: 1m, env: {\"A-B\": x}}", "exec.env.A-B"},
		{"env reserved", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog], timeout: 1m, env: {EOSWEEP_TRIAL_ID: x}}", "exec.env.EOSWEEP_TRIAL_ID"},
		{"unknown exec key", "model: exec\ngrid: {eta: [1]}\nexec: {command: [prog], timeout: 1m, shell: true}", "shell"},
		{"bad axis name", "model: exec\ngrid: {Eta: [1]}\nexec:\n" + ok, "grid.Eta"},
		{"bad param name", "model: exec\ngrid: {eta: [1]}\nparams: {lr-x: 1}\nexec:\n" + ok, "params.lr-x"},
		{"nan param", "model: exec\ngrid: {eta: [1]}\nparams: {x: .nan}\nexec:\n" + ok, "params.x"},
		{"unknown model says exec", "model: torch\ngrid: {eta: [1]}", "or exec"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.yaml), 10_000)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want ErrInvalid naming %q", err, c.want)
			}
		})
	}
	// A placeholder for a free-form axis that is not eta is fine, and so is
	// a sweep without eta (it has no boundary to analyse, but it runs).
	s := mustParse(t, "model: exec\ngrid: {lr: [0.1, 0.2]}\nexec: {command: [prog, \"{lr}\", \"{{literal}}\", '{\"json\": 1}'], timeout: 1m}")
	if tr, err := s.Trials(); err != nil || len(tr) != 2 {
		t.Fatalf("lr sweep: %v, %v", tr, err)
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	one, eps, eosLevel := 1.0, 0.05, EOSLevel
	native := "model: sparse\ngrid: {eta: [1e-3, 2e-3], width: [100]}\nboundary: "
	cases := []struct {
		name, yaml string
		want       []boundary.Options // Metric and BiasEps of each analysis
	}{
		{"none", native + "{bias_eps: 0.02}", []boundary.Options{{BiasEps: 0.02}}},
		{"default spelled out", native + "{metric: final_bias, sense: drop}", []boundary.Options{{BiasEps: 0.01}}},
		{"one rising", native + "{metric: test_acc, sense: rise}",
			[]boundary.Options{{BiasEps: 0.01, Metric: boundary.Metric{Name: "test_acc", Sense: boundary.SenseRise}}}},
		{"level", native + "{metric: final_loss, level: 0.5}",
			[]boundary.Options{{Metric: boundary.Metric{Name: "final_loss", Sense: boundary.SenseDrop, Level: &[]float64{0.5}[0]}}}},
		{"list of names", native + "{metrics: [final_bias, max_eos_ratio]}", []boundary.Options{
			{BiasEps: 0.01, Metric: boundary.Metric{Name: "final_bias", Sense: boundary.SenseDrop}},
			{Metric: boundary.Metric{Name: "max_eos_ratio", Sense: boundary.SenseRise, Level: &eosLevel}}}},
		{"list of entries", native + "{bias_eps: 0.03, metrics: [{metric: final_bias, eps: 0.05}, {metric: max_eos_ratio, level: 1, sense: rise}, min_bias]}",
			[]boundary.Options{
				{BiasEps: eps, Metric: boundary.Metric{Name: "final_bias", Sense: boundary.SenseDrop}},
				{Metric: boundary.Metric{Name: "max_eos_ratio", Sense: boundary.SenseRise, Level: &one}},
				{BiasEps: 0.03, Metric: boundary.Metric{Name: "min_bias", Sense: boundary.SenseDrop}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, c.yaml)
			got := s.Analyses()
			if len(got) != len(c.want) {
				t.Fatalf("Analyses = %+v", got)
			}
			for i, w := range c.want {
				g := got[i]
				if g.BiasEps != w.BiasEps || g.Metric.String() != w.Metric.String() || g.Model != "sparse" ||
					!reflect.DeepEqual(g.GroupBy, []string{"width"}) {
					t.Errorf("analysis %d = %+v (%s), want eps %v metric %s", i, g, g.Metric, w.BiasEps, w.Metric)
				}
			}
			if !reflect.DeepEqual(s.Analysis(), got[0]) {
				t.Errorf("Analysis() is not the first of Analyses()")
			}
		})
	}
	// Spelling out the default names the same sweep.
	a := mustParse(t, native+"{bias_eps: 0.02}")
	b := mustParse(t, native+"{bias_eps: 0.02, metric: final_bias}")
	if a.ID() != b.ID() {
		t.Errorf("explicit default metric changed the sweep id")
	}

	errs := []struct{ name, yaml, want string }{
		{"both forms", native + "{metric: final_bias, metrics: [final_bias]}", "not both"},
		{"unknown field", native + "{metric: val_loss}", `boundary.metric: "val_loss" is not a result field`},
		{"flag", native + "{metric: diverged}", "is a flag"},
		{"bad sense", native + "{metric: final_bias, sense: up}", `boundary.sense: "up"`},
		{"nan level", native + "{metric: final_bias, level: .nan}", "boundary.level"},
		{"empty list", native + "{metrics: []}", "boundary.metrics: 0 entries"},
		{"twice", native + "{metrics: [final_bias, final_bias]}", "listed twice"},
		{"entry key", native + "{metrics: [{metric: final_bias, threshold: 1}]}", "boundary.metrics[0].threshold"},
		{"entry no name", native + "{metrics: [{sense: rise}]}", "boundary.metrics[0].metric: required"},
		{"entry eps", native + "{metrics: [final_bias, {metric: test_acc, eps: -1}]}", "boundary.metrics[1].eps"},
		{"entry list", native + "{metrics: [[final_bias]]}", "boundary.metrics[0]"},
		{"exec name", "model: exec\ngrid: {eta: [1]}\nexec: {command: [p], timeout: 1m}\nboundary: {metric: Val}", `"Val" is not a metric name`},
	}
	for _, c := range errs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.yaml), 0)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want ErrInvalid naming %q", err, c.want)
			}
		})
	}
}

// Sweep and trial identities of the examples are what they were before exec
// sweeps and boundary metrics existed: resubmitting an old spec resumes it.
func TestExampleIdentitiesUnchanged(t *testing.T) {
	t.Parallel()
	want := map[string][2]string{ // sweep id, first trial id
		"quick":          {"4548eb703dc4", "328d26aa20736f2a"},
		"figure1":        {"4ae180af74ad", "d828e8cf72102c35"},
		"mean-widths":    {"4e096009b0f5", "16549749b7ab1b94"},
		"relu-stability": {"995ec49dc672", "4a16847a81c69bd2"},
		"single-x0":      {"67ec066fd2f0", "ef456ab0adc5fa65"},
	}
	for name, ids := range want {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		trials, err := s.Trials()
		if err != nil {
			t.Fatal(err)
		}
		if s.ID() != ids[0] || trials[0].ID != ids[1] {
			t.Errorf("%s: sweep %s trial %s, want %s %s", name, s.ID(), trials[0].ID, ids[0], ids[1])
		}
	}
}

// An exec spec goes through the bounded parse and the streamed expansion like
// any other: Size counts its points, Each and At give exec trials (no step
// count), ParseStored reads it back as the same sweep, ParseNew holds it to
// the same checks, and a grid over the limit is refused with its size before
// anything is expanded.
func TestExecSpecBoundedAndStreamed(t *testing.T) {
	t.Parallel()
	s := mustParse(t, execSpec)
	if s.Size() != 12*5*2 {
		t.Fatalf("Size = %d, want 120", s.Size())
	}
	var ids []string
	err := s.Each(context.Background(), func(i int, tr Trial) error {
		if tr.Steps != NoSteps || !strings.HasPrefix(tr.Key, "exec ") {
			t.Errorf("point %d: %+v is not an exec trial", i, tr)
		}
		at, err := s.At(i)
		if err != nil || at.ID != tr.ID {
			t.Errorf("At(%d) = %v, %v; Each gave %s", i, at.ID, err, tr.ID)
		}
		ids = append(ids, tr.ID)
		return nil
	})
	if err != nil || len(ids) != 120 {
		t.Fatalf("Each: %v, %d trials", err, len(ids))
	}
	stored, err := ParseStored([]byte(s.YAML))
	if err != nil || stored.ID() != s.ID() || !reflect.DeepEqual(stored.Exec, s.Exec) {
		t.Fatalf("ParseStored: %v, id %s vs %s", err, stored.ID(), s.ID())
	}
	if _, err := ParseNew([]byte(execSpec), 0); err != nil {
		t.Errorf("ParseNew: %v", err)
	}
	huge := strings.Replace(execSpec, "seed: {range: [0, 5]}", "seed: {range: [0, 100000]}", 1)
	if _, err := Parse([]byte(huge), 0); err == nil || !strings.Contains(err.Error(), "grid: has 2,400,000 trials; the limit is 100,000") {
		t.Errorf("a grid over the limit: %v", err)
	}
}
