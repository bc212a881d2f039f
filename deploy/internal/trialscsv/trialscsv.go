// Package trialscsv reads the trials.csv that `eosweep report` writes, for the
// deployment tests. A trial is identified by its parameter columns: those
// before the first result column, final_bias.
package trialscsv

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
)

// FirstResult is the first result column; the columns before it are the
// trial's parameters.
const FirstResult = "final_bias"

// Trials is a trials.csv, read.
type Trials struct {
	// Results maps each trial (its parameters, comma-joined) to its result
	// columns, wall_ms blanked (it differs between runs of the same trial).
	Results map[string][]string
	// Listed counts the rows of each trial: 1 for a trial stored once.
	Listed map[string]int
	Rows   int
}

// Read reads a trials.csv file.
func Read(path string) (Trials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Trials{}, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return Trials{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 1 {
		return Trials{}, fmt.Errorf("%s: no header", path)
	}
	head := rows[0]
	split, wall := slices.Index(head, FirstResult), slices.Index(head, "wall_ms")
	if split < 1 || wall < split {
		return Trials{}, fmt.Errorf("%s: header %v lacks %s or wall_ms after it", path, head, FirstResult)
	}
	tr := Trials{Results: map[string][]string{}, Listed: map[string]int{}, Rows: len(rows) - 1}
	for _, r := range rows[1:] {
		key := strings.Join(r[:split], ",")
		res := slices.Clone(r[split:])
		res[wall-split] = ""
		tr.Results[key] = res
		tr.Listed[key]++
	}
	return tr, nil
}
