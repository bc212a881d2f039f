package worker_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
	"github.com/eosweep/eosweep/worker/execrun"
)

// examples/exec-numpy: the NumPy implementation of the paper's Figure 1
// network, swept on exec workers, finds the bias boundary's onset within 6%
// of 8π/d² at d = 100 and within 5% of the native engine's onset on the same
// grid (figure1-native.yaml; the two draw different data). About a minute of
// CPU on two cores: EOSWEEP_NUMPY=1 go test ./worker -run NumPy -v
func TestNumPyExampleAgreesWithEngine(t *testing.T) {
	if os.Getenv("EOSWEEP_NUMPY") == "" {
		t.Skip("SKIPPED: set EOSWEEP_NUMPY=1 to run the NumPy example's sweep (about a minute of two cores)")
	}
	const python = "/usr/bin/python3" // the example's interpreter: Debian's, with python3-numpy
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: %s cannot import numpy (apt-get install python3-numpy): %v %s", python, err, out)
	}
	root, err := filepath.Abs(filepath.Join("..", "examples", "exec-numpy"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(string(data), "examples/exec-numpy/", root+"/")
	}
	c := start(t, 30*time.Second)
	numpyID := submit(t, c, read("figure1.yaml"))
	nativeID := submit(t, c, read("figure1-native.yaml"))
	r, err := execrun.New([]string{python}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, worker.New(c, worker.Config{ID: "runner", Parallel: 2, LeaseWait: 100 * time.Millisecond, Exec: r}))
	theory := 8 * math.Pi / (100 * 100)
	onsets := map[string]float64{}
	for name, id := range map[string]string{"numpy": numpyID, "native": nativeID} {
		info := waitDoneWithin(t, c, id, 20*time.Minute)
		resp, err := c.GetBoundary(context.Background(), &pb.GetBoundaryRequest{SweepId: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range resp.GetGroups() {
			t.Logf("%-6s %-13s bracket [%.5g, %.5g] η* %.5g (%.4f×) onset %.5g (%.4f×)  %d trials, %d failed",
				name, g.GetMetric(), g.GetBracket().GetLow(), g.GetBracket().GetHigh(), g.GetEtaStar(), g.GetEtaStar()/theory,
				g.GetOnset(), g.GetOnset()/theory, g.GetTrials(), info.Progress.Failed)
			if g.GetMetric() == "final_bias" {
				onsets[name] = g.GetOnset()
			}
		}
		if info.Progress.Failed != 0 {
			t.Errorf("%s: %d trials failed", name, info.Progress.Failed)
		}
	}
	if r := onsets["numpy"] / theory; math.Abs(r-1) > 0.06 {
		t.Errorf("NumPy onset %g = %.4f × 8π/d², want within 6%%", onsets["numpy"], r)
	}
	if r := onsets["numpy"] / onsets["native"]; math.Abs(r-1) > 0.05 {
		t.Errorf("NumPy onset %g vs the engine's %g: ratio %.4f, want within 5%%", onsets["numpy"], onsets["native"], r)
	}
}
