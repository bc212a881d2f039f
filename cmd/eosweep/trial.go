package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/engine"
)

// trialOptions are the flags of `eosweep trial`.
type trialOptions struct {
	model    string
	eta      float64
	width    int
	seed     int64
	sets     []string
	dumpPath string
	asJSON   bool
}

// trialOutput is what `eosweep trial --json` prints: the result fields
// (engine.Result's JSON names) at the top level, with the model and its
// resolved parameters.
type trialOutput struct {
	Model  string             `json:"model"`
	Params map[string]float64 `json:"params"`
	engine.Result
}

func newTrialCmd() *cobra.Command {
	var o trialOptions
	cmd := &cobra.Command{
		Use:   "trial --model M --eta E [--width W] [--seed S] [--set name=value ...] [--dump FILE.npz] [--json]",
		Short: "Run one gradient-descent trial and print its result",
		Long: `Run one trial of a model (` + strings.Join(engine.Models, ", ") + `) and print its result:
a readable summary, or one JSON object with --json. --set gives any other
parameter (repeatable), e.g. --set n=300 --set lam=3. --dump writes a NumPy
.npz with the configuration (0-d arrays), the data, the initial and the final
parameters, so the run can be replayed elsewhere.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := o.params(cmd)
			if err != nil {
				return err
			}
			cfg, err := engine.Resolve(o.model, params)
			if err != nil {
				return err
			}
			return runTrial(cmd, cfg, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "model: "+strings.Join(engine.Models, ", ")+" (required)")
	f.Float64Var(&o.eta, "eta", 0, "step size η (required)")
	f.IntVar(&o.width, "width", 0, "width: neurons for mean and relu, dimension d for sparse")
	f.Int64Var(&o.seed, "seed", 0, "seed of the data and the initialisation (≥ 0)")
	f.StringArrayVar(&o.sets, "set", nil, "another parameter as name=value (repeatable)")
	f.StringVar(&o.dumpPath, "dump", "", "write data, configuration and parameters to this .npz file")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object instead of a summary")
	return cmd
}

// params collects the parameters given on the command line: the flags that
// were set and every --set name=value. A parameter given twice is refused.
func (o *trialOptions) params(cmd *cobra.Command) (map[string]float64, error) {
	if o.model == "" {
		return nil, fmt.Errorf("flag --model: required (one of %s)", strings.Join(engine.Models, ", "))
	}
	p := map[string]float64{}
	flags := cmd.Flags()
	if flags.Changed("eta") {
		p["eta"] = o.eta
	}
	if flags.Changed("width") {
		p["width"] = float64(o.width)
	}
	if flags.Changed("seed") {
		if o.seed < 0 {
			return nil, fmt.Errorf("flag --seed %d: seed must be ≥ 0", o.seed)
		}
		p["seed"] = float64(o.seed)
	}
	for _, s := range o.sets {
		name, v, err := parseAssignment(s)
		if errors.Is(err, errNotAssignment) {
			err = fmt.Errorf("--set %w", err)
		}
		if err != nil {
			return nil, err
		}
		if _, dup := p[name]; dup {
			return nil, fmt.Errorf("parameter %q: given twice (as --%s and --set, or twice with --set)", name, name)
		}
		p[name] = v
	}
	if _, ok := p["eta"]; !ok {
		return nil, fmt.Errorf("parameter \"eta\": required (--eta E or --set eta=E)")
	}
	return p, nil
}

func runTrial(cmd *cobra.Command, cfg engine.Config, o trialOptions) error {
	var (
		res  engine.Result
		dump engine.Dump
		err  error
	)
	if o.dumpPath != "" {
		res, dump, err = engine.RunDump(cmd.Context(), cfg)
	} else {
		res, err = engine.Run(cmd.Context(), cfg)
	}
	if err != nil {
		return fmt.Errorf("trial %s: %w", cfg.Key(), err)
	}
	if dump != nil {
		if err := writeNPZ(o.dumpPath, dump); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	if o.asJSON {
		enc := json.NewEncoder(out)
		return enc.Encode(trialOutput{Model: cfg.Model, Params: cfg.Params(), Result: res})
	}
	return printSummary(out, cfg, res, o.dumpPath)
}

// printSummary writes a readable account of one trial.
func printSummary(w io.Writer, cfg engine.Config, r engine.Result, dumpPath string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := cfg.Params()
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var kv []string
	for _, k := range names {
		kv = append(kv, k+"="+strconv.FormatFloat(p[k], 'g', -1, 64))
	}
	fmt.Fprintf(tw, "model\t%s\n", cfg.Model)
	fmt.Fprintf(tw, "params\t%s\n", strings.Join(kv, " "))
	fmt.Fprintf(tw, "final bias\t%.6g\t(min %.6g; bias negative, b_T < −%g: %s)\n", r.FinalBias, r.MinBias, cfg.BiasEps, biasNegativeText(r))
	fmt.Fprintf(tw, "sharpness\t%.6g → %.6g\t(2/S₀ = %.4g; η·S/2 at the end = %.3f, max over the run = %.3f, after θ₀ = %.3f)\n",
		r.InitialSharpness, r.FinalSharpness, 2/r.InitialSharpness, r.EOSRatio, r.MaxEOSRatio, r.MaxEOSRatioAfterInit)
	if eta, ok := cfg.Theory(); ok {
		fmt.Fprintf(tw, "theory η*\t%.4g\t(η/η* = %.3f)\n", eta, cfg.Eta/eta)
	}
	fmt.Fprintf(tw, "final loss\t%.6g\n", r.FinalLoss)
	if r.TrainAcc != nil || r.TestAcc != nil {
		fmt.Fprintf(tw, "accuracy\ttrain %s\ttest %s\n", percent(r.TrainAcc), percent(r.TestAcc))
	}
	fmt.Fprintf(tw, "steps run\t%d of %d\t(diverged: %s, dead: %s)\n", r.StepsRun, cfg.Steps, yesNo(r.Diverged), yesNo(r.Dead))
	fmt.Fprintf(tw, "wall time\t%.1f ms\t(%.3g µs/step)\n", r.WallMS, 1000*r.WallMS/math.Max(1, float64(r.StepsRun)))
	if dumpPath != "" {
		fmt.Fprintf(tw, "dump\t%s\n", dumpPath)
	}
	return tw.Flush()
}

// biasNegativeText says whether the run ended with b_T < −bias_eps. That
// absolute sign test is not "learned": a sweep's analysis calls a trial
// learned when its bias drops below its seed's gradient-flow plateau.
func biasNegativeText(r engine.Result) string {
	if r.Diverged {
		return "no (diverged)"
	}
	return yesNo(r.BiasNegative)
}

// percent renders an accuracy, "—" when it is absent (no test set).
func percent(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100**v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
