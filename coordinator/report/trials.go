package report

import (
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// resultFields are the scalar fields of engine.Result in declaration order,
// with their JSON names (the trajectory is left out).
var resultFields = func() []struct {
	index int
	name  string
} {
	var out []struct {
		index int
		name  string
	}
	rt := reflect.TypeFor[engine.Result]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		switch f.Type.Kind() {
		case reflect.Float64, reflect.Int, reflect.Bool:
		case reflect.Pointer: // an optional number (accuracies)
			if f.Type.Elem().Kind() != reflect.Float64 {
				continue
			}
		default:
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			name = f.Name
		}
		out = append(out, struct {
			index int
			name  string
		}{i, name})
	}
	return out
}()

// trialOrder returns the indices of trials (with their order parameters)
// sorted by group, η and seed.
func trialOrder(trials []boundary.Trial, orders []boundary.OrderParameter) []int {
	order := make([]int, len(trials))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if orders[i].Group != orders[j].Group {
			return orders[i].Group < orders[j].Group
		}
		pi, pj := trials[i].Params, trials[j].Params
		if pi["eta"] != pj["eta"] {
			return pi["eta"] < pj["eta"]
		}
		return pi["seed"] < pj["seed"]
	})
	return order
}

// writeTrialsCSV writes one row per trial of the sweep: its id, every
// resolved parameter of the model (sorted by name; for model exec every
// parameter any trial has, as given), every scalar result field, the metrics
// any trial reports beyond them (sorted; an empty cell where a trial lacks
// one), the analysis columns group, plateau, drop and learned, then its state
// and last error. Finished trials come first (state done), by group, η and
// seed; then the trials without a result, whose result and analysis cells are
// empty. Rows are written as they are made, none held.
func writeTrialsCSV(path string, a boundary.Analysis) error {
	trials, model := a.Trials, a.Options.Model
	params := engine.ParamNames(model)
	exec := model == engine.ModelExec
	metrics := map[string]bool{}
	addParams := func(ps map[string]float64) {
		for k := range ps {
			if exec && !slices.Contains(params, k) {
				params = append(params, k)
			}
		}
	}
	for _, t := range trials {
		for k := range t.Result.Metrics {
			metrics[k] = true
		}
		addParams(t.Params)
	}
	for _, m := range a.Missing {
		addParams(m.Params)
	}
	sort.Strings(params)
	extra := slices.Sorted(maps.Keys(metrics))
	header := append([]string{"trial"}, params...)
	for _, f := range resultFields {
		header = append(header, f.name)
	}
	header = append(header, extra...)
	header = append(header, "group", "plateau", "drop", "learned", "state", "error")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("trials.csv: %w", err)
	}
	w := csv.NewWriter(f)
	fail := func(err error) error {
		f.Close()
		return fmt.Errorf("trials.csv: %w", err)
	}
	if err := w.Write(header); err != nil {
		return fail(err)
	}
	row := make([]string, 0, len(header))
	for _, i := range trialOrder(a.Trials, a.OrderParameters) {
		p, _, _, err := resolved(model, trials[i].Params)
		if err != nil {
			return fail(fmt.Errorf("trial %d: %w", i, err))
		}
		row = append(row[:0], trials[i].ID)
		row = append(row, paramCells(params, p)...)
		rv := reflect.ValueOf(trials[i].Result)
		for _, f := range resultFields {
			v := rv.Field(f.index)
			switch v.Kind() {
			case reflect.Float64:
				row = append(row, num(v.Float()))
			case reflect.Int:
				row = append(row, strconv.FormatInt(v.Int(), 10))
			case reflect.Bool:
				row = append(row, strconv.FormatBool(v.Bool()))
			case reflect.Pointer: // absent: an empty cell
				if v.IsNil() {
					row = append(row, "")
				} else {
					row = append(row, num(v.Elem().Float()))
				}
			}
		}
		for _, k := range extra {
			cell := ""
			if v, ok := trials[i].Result.Metrics[k]; ok {
				cell = num(v)
			}
			row = append(row, cell)
		}
		o := a.OrderParameters[i]
		row = append(row, o.Group, num(o.Plateau), num(o.Drop), strconv.FormatBool(o.Learned), "done", "")
		if err := w.Write(row); err != nil {
			return fail(err)
		}
	}
	if err := writeMissingRows(w, a, params, len(extra)); err != nil {
		return fail(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("trials.csv: %w", err)
	}
	return nil
}

// writeMissingRows writes the trials.csv rows of the trials without a
// result, by group, η and seed: id and parameters, empty result (extra: the
// number of metric columns) and analysis cells but the group, then state and
// last error. Only the sort keys are held; each row is made as it is written.
func writeMissingRows(w *csv.Writer, a boundary.Analysis, params []string, extra int) error {
	type key struct {
		index     int
		group     string
		eta, seed float64
	}
	groupOf := func(p map[string]float64) string {
		key := map[string]float64{}
		for _, g := range a.Options.GroupBy {
			key[g] = p[g]
		}
		return boundary.GroupName(a.Options.GroupBy, key)
	}
	keys := make([]key, len(a.Missing))
	for i, m := range a.Missing {
		p, eta, seed, err := resolved(a.Options.Model, m.Params)
		if err != nil {
			return fmt.Errorf("trial %s: %w", m.ID, err)
		}
		keys[i] = key{i, groupOf(p), eta, seed}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		if keys[i].eta != keys[j].eta {
			return keys[i].eta < keys[j].eta
		}
		return keys[i].seed < keys[j].seed
	})
	var cells []string
	for _, k := range keys {
		m := a.Missing[k.index]
		p, _, _, err := resolved(a.Options.Model, m.Params)
		if err != nil {
			return fmt.Errorf("trial %s: %w", m.ID, err)
		}
		cells = append(cells[:0], m.ID)
		cells = append(cells, paramCells(params, p)...)
		for range len(resultFields) + extra {
			cells = append(cells, "")
		}
		cells = append(cells, k.group, "", "", "", m.State, m.Error)
		if err := w.Write(cells); err != nil {
			return err
		}
	}
	return nil
}

// paramCells are the cells of params from p: empty where p lacks one (an exec
// trial without a parameter some other trial has).
func paramCells(params []string, p map[string]float64) []string {
	out := make([]string, len(params))
	for i, k := range params {
		if v, ok := p[k]; ok {
			out[i] = num(v)
		}
	}
	return out
}

// resolved returns a trial's parameters as trials.csv shows them, with its
// η and seed: the resolved configuration's for the engine's models (defaults
// applied), the input parameters as given for model exec (an exec program's).
func resolved(model string, params map[string]float64) (p map[string]float64, eta, seed float64, err error) {
	if model == engine.ModelExec {
		return params, params["eta"], params["seed"], nil
	}
	cfg, err := engine.Resolve(model, params)
	if err != nil {
		return nil, 0, 0, err
	}
	return cfg.Params(), cfg.Eta, float64(cfg.Seed), nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
