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

// trialOrder returns the indices of the analysis' trials sorted by group, η
// and seed.
func trialOrder(a boundary.Analysis) []int {
	trials, orders := a.Trials, a.OrderParameters
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

// writeTrialsCSV writes one row per trial: every resolved parameter of the
// model (sorted by name; for model exec every parameter any trial has), every
// scalar result field, the metrics any trial reports beyond them (sorted; an
// empty cell where a trial lacks one), then the analysis columns group,
// plateau, drop and learned.
func writeTrialsCSV(path string, a boundary.Analysis) error {
	trials, model := a.Trials, a.Options.Model
	params := engine.ParamNames(model)
	exec := model == engine.ModelExec
	metrics := map[string]bool{}
	for _, t := range trials {
		for k := range t.Result.Metrics {
			metrics[k] = true
		}
		if exec {
			for k := range t.Params {
				if !slices.Contains(params, k) {
					params = append(params, k)
				}
			}
		}
	}
	sort.Strings(params)
	extra := slices.Sorted(maps.Keys(metrics))
	header := append([]string{}, params...)
	for _, f := range resultFields {
		header = append(header, f.name)
	}
	header = append(header, extra...)
	header = append(header, "group", "plateau", "drop", "learned")
	rows := [][]string{header}
	for _, i := range trialOrder(a) {
		p := trials[i].Params
		if !exec {
			cfg, err := engine.Resolve(model, trials[i].Params)
			if err != nil {
				return fmt.Errorf("trials.csv: trial %d: %w", i, err)
			}
			p = cfg.Params()
		}
		row := make([]string, 0, len(header))
		for _, k := range params {
			row = append(row, num(p[k]))
		}
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
		row = append(row, o.Group, num(o.Plateau), num(o.Drop), strconv.FormatBool(o.Learned))
		rows = append(rows, row)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("trials.csv: %w", err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return fmt.Errorf("trials.csv: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("trials.csv: %w", err)
	}
	return nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
