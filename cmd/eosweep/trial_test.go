package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"
)

// execTrial runs `eosweep trial args...` in-process on a fresh command tree.
func execTrial(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := execute(context.Background(), append([]string{"trial"}, args...)...)
	return out + errOut, err
}

func TestTrialJSON(t *testing.T) {
	t.Parallel()
	out, err := execTrial(t, "--model", "sparse", "--eta", "0.01", "--width", "8", "--seed", "3",
		"--set", "n=20", "--set", "n_test=10", "--set", "steps=50", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	for _, field := range []string{"final_bias", "min_bias", "bias_negative", "initial_sharpness", "final_sharpness",
		"eos_ratio", "max_eos_ratio", "max_eos_ratio_after_init", "final_loss", "train_acc", "test_acc", "steps_run", "diverged", "dead", "wall_ms", "trajectory"} {
		if _, ok := got[field]; !ok {
			t.Errorf("JSON lacks %q", field)
		}
	}
	params := got["params"].(map[string]any)
	want := map[string]float64{"eta": 0.01, "width": 8, "seed": 3, "n": 20, "n_test": 10, "steps": 50, "horizon": 0}
	for k, v := range want {
		if params[k] != v {
			t.Errorf("params[%q] = %v, want %v", k, params[k], v)
		}
	}
	if got["model"] != "sparse" || got["steps_run"] != 50.0 {
		t.Errorf("model %v, steps_run %v", got["model"], got["steps_run"])
	}
}

func TestTrialSummary(t *testing.T) {
	t.Parallel()
	out, err := execTrial(t, "--model", "mean", "--eta", "3.3", "--width", "16")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"final bias", "sharpness", "theory η*", "steps run", "1000 of 1000"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestTrialErrorsNameTheParameter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--eta", "1"}, []string{"--model"}},
		{[]string{"--model", "dense", "--eta", "1"}, []string{`"dense"`}},
		{[]string{"--model", "mean"}, []string{`"eta"`}},
		{[]string{"--model", "mean", "--eta", "-1"}, []string{`"eta"`}},
		{[]string{"--model", "mean", "--eta", "1", "--width", "0"}, []string{`"width"`}},
		{[]string{"--model", "mean", "--eta", "1", "--set", "foo=2"}, []string{`"foo"`}},
		{[]string{"--model", "mean", "--eta", "1", "--set", "init_scale=big"}, []string{`"init_scale"`}},
		{[]string{"--model", "mean", "--eta", "1", "--set", "steps"}, []string{`"steps"`, "name=value"}},
		{[]string{"--model", "mean", "--eta", "1", "--set", "eta=2"}, []string{`"eta"`, "twice"}},
		{[]string{"--model", "sparse", "--eta", "1", "--set", "steps=3", "--set", "horizon=2"}, []string{`"steps"`, `"horizon"`}},
		{[]string{"--model", "single", "--eta", "1", "--width", "3"}, []string{`"width"`}},
		{[]string{"--model", "single", "--eta", "1", "--dump", "/nonexistent-dir/x.npz"}, []string{"dump"}},
		{[]string{"--model", "single", "--eta", "1", "--seed", "-1"}, []string{"--seed", "seed must be ≥ 0"}},
		{[]string{"--model", "single", "--set", "eta=1", "--set", "seed=-1"}, []string{`"seed"`}},
		{[]string{"--model", "mean", "--width", "4", "--set", "width=8", "--eta", "1"}, []string{`"width"`, "twice"}},
	}
	for _, tc := range tests {
		_, err := execTrial(t, tc.args...)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %s", tc.args, err, w)
			}
		}
	}
}

// TestTrialDump writes a dump and reads it back with npyio.
func TestTrialDump(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "trial.npz")
	out, err := execTrial(t, "--model", "sparse", "--eta", "0.01", "--width", "6",
		"--set", "n=5", "--set", "n_test=4", "--set", "steps=30", "--dump", path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		FinalBias float64 `json:"final_bias"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	r, err := npz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	keys := r.Keys()
	for _, k := range []string{"eta", "steps", "width", "seed", "X", "y", "X_test", "y_test",
		"a_plus0", "a_minus0", "b0", "a_plus", "a_minus", "b"} {
		if !slices.Contains(keys, k) {
			t.Errorf("dump lacks %q (has %v)", k, keys)
		}
	}
	scalar := func(name string) float64 {
		var v float64
		if err := r.Read(name, &v); err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		return v
	}
	if eta, steps, b := scalar("eta"), scalar("steps"), scalar("b"); eta != 0.01 || steps != 30 || b != res.FinalBias {
		t.Errorf("dump: eta %g steps %g b %g; want 0.01, 30, final_bias %g", eta, steps, b, res.FinalBias)
	}
	if b0 := scalar("b0"); b0 != 0 {
		t.Errorf("dump: b0 = %g, want 0", b0)
	}
	var X mat.Dense
	if err := r.Read("X", &X); err != nil {
		t.Fatal(err)
	}
	if rows, cols := X.Dims(); rows != 5 || cols != 6 {
		t.Errorf("X is %d×%d, want 5×6", rows, cols)
	}
	var y []float64
	if err := r.Read("y", &y); err != nil {
		t.Fatal(err)
	}
	for _, v := range y {
		if math.Abs(v) != 1 {
			t.Errorf("label %g not ±1", v)
		}
	}
}

// One name per quantity: the engine's sign test is bias_negative (never for a
// diverged run, never called "learned"), and accuracies without data to
// measure them on are null in JSON and "—" in the summary, not 0.
func TestTrialBiasNegativeAndAbsentAccuracies(t *testing.T) {
	t.Parallel()
	diverged := []string{"--model", "relu", "--eta", "100", "--set", "steps=200", "--set", "n=100", "--set", "n_test=0", "--set", "d=20"}
	out, err := execTrial(t, diverged...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "bias negative, b_T < −0.01: no (diverged)") || strings.Contains(out, "learned") || !strings.Contains(out, "test —") {
		t.Errorf("summary of a diverged relu:\n%s", out)
	}
	for _, c := range []struct {
		args                []string
		trainNull, testNull bool
		biasNegative        bool
	}{
		{diverged, false, true, false},
		{[]string{"--model", "single", "--eta", "1", "--set", "steps=10"}, true, true, false},
		{[]string{"--model", "sparse", "--eta", "0.01", "--width", "8", "--set", "n=20", "--set", "n_test=10", "--set", "steps=20"}, false, false, false},
	} {
		out, err := execTrial(t, append(c.args, "--json")...)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		for field, wantNull := range map[string]bool{"train_acc": c.trainNull, "test_acc": c.testNull} {
			v, ok := got[field]
			if !ok || (v == nil) != wantNull {
				t.Errorf("%v: %s = %v (present %v), want null %v", c.args, field, v, ok, wantNull)
			}
		}
		if got["bias_negative"] != c.biasNegative {
			t.Errorf("%v: bias_negative %v", c.args, got["bias_negative"])
		}
		if _, old := got["threshold_learned"]; old {
			t.Errorf("%v: JSON still has threshold_learned", c.args)
		}
	}
}

// Every parameter can be given with --set, eta included.
func TestTrialSetEta(t *testing.T) {
	t.Parallel()
	viaFlag, err := execTrial(t, "--model", "single", "--eta", "1.5", "--set", "steps=20", "--json")
	if err != nil {
		t.Fatal(err)
	}
	viaSet, err := execTrial(t, "--model", "single", "--set", "eta=1.5", "--set", "steps=20", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if json.Unmarshal([]byte(viaFlag), &a) != nil || json.Unmarshal([]byte(viaSet), &b) != nil {
		t.Fatalf("not JSON:\n%s\n%s", viaFlag, viaSet)
	}
	delete(a, "wall_ms")
	delete(b, "wall_ms")
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("--set eta=1.5 differs from --eta 1.5:\n%v\n%v", b, a)
	}
}
