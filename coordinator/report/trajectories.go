package report

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// trajectoriesHeader are the columns of trajectories.csv.
var trajectoriesHeader = []string{"trial", "eta", "seed", "width", "step", "loss", "bias", "sharpness"}

// writeTrajectoriesCSV writes every finished trial's trajectory in long
// format, one row per point: the trial's id, η, seed and width (resolved:
// width is the model's, d for sparse and 1 for single), then the point's
// step, loss, bias and sharpness. Sharpness is an empty cell where it was not
// measured (the engine measures it every sharpness_every steps). For model
// exec η, seed and width are the program's parameters of those names. Trials come
// in the order of trials.csv (group, η, seed), points by step.
func writeTrajectoriesCSV(path string, a boundary.Analysis) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%s: %w", TrajectoriesCSV, err)
	}
	w := csv.NewWriter(f)
	fail := func(err error) error {
		f.Close()
		return fmt.Errorf("%s: %w", TrajectoriesCSV, err)
	}
	if err := w.Write(trajectoriesHeader); err != nil {
		return fail(err)
	}
	row := make([]string, len(trajectoriesHeader))
	for _, i := range trialOrder(a.Trials, a.OrderParameters) {
		t := a.Trials[i]
		eta, seed, width, err := trajectoryKey(a.Options.Model, t.Params)
		if err != nil {
			return fail(fmt.Errorf("trial %s: %w", t.ID, err))
		}
		row[0], row[1], row[2], row[3] = t.ID, eta, seed, width
		for _, p := range t.Result.Trajectory {
			row[4], row[5], row[6], row[7] = strconv.Itoa(p.Step), num(p.Loss), num(p.Bias), ""
			if p.Sharpness != 0 {
				row[7] = num(p.Sharpness)
			}
			if err := w.Write(row); err != nil {
				return fail(err)
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", TrajectoriesCSV, err)
	}
	return nil
}

// trajectoryKey returns the eta, seed and width cells of a trial: resolved
// for the engine's models, as given for model exec (an exec program's
// parameters; width empty when the sweep has none).
func trajectoryKey(model string, params map[string]float64) (eta, seed, width string, err error) {
	if model == engine.ModelExec {
		if w, ok := params["width"]; ok {
			width = num(w)
		}
		return num(params["eta"]), num(params["seed"]), width, nil
	}
	cfg, err := engine.Resolve(model, params)
	if err != nil {
		return "", "", "", err
	}
	return num(cfg.Eta), strconv.FormatUint(cfg.Seed, 10), strconv.Itoa(cfg.Width), nil
}
