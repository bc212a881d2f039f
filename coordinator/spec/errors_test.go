package spec

import (
	"errors"
	"strings"
	"testing"
)

// Errors a newcomer can act on: each names what is wrong and how to fix
// it, and none shows a Go type name.
func TestNewcomerErrors(t *testing.T) {
	t.Parallel()
	const ok = "name: x\nmodel: single\ngrid: {eta: [1, 2]}\n"
	cases := []struct {
		name, yaml string
		want       []string
		newOnly    bool // refused by ParseNew only (stored specs keep loading)
	}{
		{"empty", "", []string{"spec is empty"}, false},
		{"only a comment", "# nothing yet\n", []string{"spec is empty"}, false},
		{"unknown key with a suggestion", ok + "boundry: {bias_eps: 0.1}\n", []string{"boundry: unknown key", "did you mean boundary?", "line 4", "a spec takes name, model, grid, params, boundary"}, false},
		{"unknown key, nothing near", ok + "repeat: 3\n", []string{"repeat: unknown key;", "a spec takes"}, false},
		{"unknown nested key", ok + "boundary: {refine: {round: 2, tolerance: 0.1}}\n", []string{"boundary.refine.round: unknown key", "did you mean rounds?", "boundary.refine takes rounds, tolerance"}, false},
		{"unknown parameter lists the model's", "name: x\nmodel: single\ngrid: {eta: [1], foo: [1]}\n", []string{"grid.foo: unknown parameter for model single (it takes bias_eps, eta,", "x0)"}, false},
		{"unknown fixed parameter", ok + "params: {width: 3}\n", []string{"params.width: unknown parameter", "(it takes"}, false},
		{"a word for a number", ok + "params: {steps: many}\n", []string{"line 4: `many`: want a number"}, false},
		{"a list for a mapping", ok + "params: [1, 2]\n", []string{"want a mapping of parameter names to numbers"}, false},
		{"unknown exec key", "name: x\nmodel: exec\nexec: {comand: [true], timeout: 1m}\ngrid: {eta: [1, 2]}\n", []string{"line 3: exec.comand: unknown key", "did you mean command?", "exec takes command, env, workdir, timeout"}, false},
		{"unknown boundary key knows the metric keys", ok + "boundary: {metirc: max_eos_ratio}\n", []string{"boundary.metirc: unknown key", "did you mean metric?", "boundary takes bias_eps, reference_eta, refine, metric, sense, level, metrics"}, false},
		{"unknown key of a metrics entry", ok + "boundary: {metrics: [{metric: max_eos_ratio, sens: rise}]}\n", []string{"line 4: boundary.metrics[0].sens: unknown key", "did you mean sense?", "boundary.metrics[0] takes metric, sense, level, eps"}, false},
		{"a word for a metric's level", ok + "boundary: {metrics: [{metric: max_eos_ratio, level: high}]}\n", []string{"boundary.metrics[0]: line 4: `high`: want a number"}, false},
		{"a number for the exec command", "name: x\nmodel: exec\nexec: {command: 3, timeout: 1m}\ngrid: {eta: [1, 2]}\n", []string{"want a list of texts"}, false},
		{"not a mapping", "- 1\n- 2\n", []string{"want a mapping of name, model, grid, params, boundary"}, false},
		{"no name", "model: single\ngrid: {eta: [1, 2]}\n", []string{"name: required"}, true},
		{"reference_eta off the grid", ok + "boundary: {reference_eta: 5}\n", []string{"boundary.reference_eta: 5 is not one of the grid's η values (1, 2)"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseNew([]byte(c.yaml), 0)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, goName := range []string{"rawSpec", "rawBoundary", "float64", "map[", "spec."} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("error %q shows the Go name %q", err, goName)
				}
			}
			if _, err := Parse([]byte(c.yaml), 0); (err == nil) != c.newOnly {
				t.Errorf("Parse: %v (a stored spec refused only by ParseNew: %v)", err, c.newOnly)
			}
		})
	}
	if _, err := ParseNew([]byte(ok+"boundary: {reference_eta: 2.0000000001}\n"), 0); err != nil {
		t.Errorf("reference_eta on the grid (rounded): %v", err)
	}
}

func TestNearest(t *testing.T) {
	t.Parallel()
	keys := []string{"name", "model", "grid", "params", "boundary"}
	for in, want := range map[string]string{"boundry": "boundary", "modle": "model", "parms": "params", "nme": "name", "zzz": "", "repeat": ""} {
		if got := nearest(in, keys); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}
