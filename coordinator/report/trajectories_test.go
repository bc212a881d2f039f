package report

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// trajectoriesOf writes the synthetic report with trial ids and reads
// trajectories.csv back.
func trajectoriesOf(t *testing.T) (string, []boundary.Trial, [][]string) {
	t.Helper()
	trials := synthetic()
	for i := range trials {
		trials[i].ID = "t" + strconv.Itoa(i)
	}
	a, err := boundary.Analyze(trials, syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "report")
	if err := Write(dir, a, Options{DPI: 30}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, TrajectoriesCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return dir, trials, recs
}

// trajectories.csv is long format: one row per trajectory point with the
// trial's id, η, seed and width; sharpness empty where it was not measured.
func TestTrajectoriesCSV(t *testing.T) {
	t.Parallel()
	_, trials, recs := trajectoriesOf(t)
	if !slices.Equal(recs[0], []string{"trial", "eta", "seed", "width", "step", "loss", "bias", "sharpness"}) {
		t.Fatalf("header %v", recs[0])
	}
	points := 0
	byID := map[string]boundary.Trial{}
	for _, tr := range trials {
		points += len(tr.Result.Trajectory)
		byID[tr.ID] = tr
	}
	if len(recs)-1 != points {
		t.Fatalf("%d rows, want one per point: %d", len(recs)-1, points)
	}
	seen := map[string]int{}
	for _, r := range recs[1:] {
		tr, ok := byID[r[0]]
		if !ok {
			t.Fatalf("row %v names no trial", r)
		}
		k := seen[r[0]]
		seen[r[0]]++
		p := tr.Result.Trajectory[k]
		if r[1] != num(tr.Params["eta"]) || r[2] != num(tr.Params["seed"]) || r[3] != num(tr.Params["width"]) ||
			r[4] != strconv.Itoa(p.Step) || r[5] != num(p.Loss) || r[6] != num(p.Bias) {
			t.Fatalf("row %v, want trial %v point %+v", r, tr.Params, p)
		}
		if (p.Sharpness == 0) != (r[7] == "") {
			t.Fatalf("row %v: sharpness %v", r, p.Sharpness)
		}
	}
}

// The README's pandas example runs on a report, with Debian's python3-pandas
// when there is one: the script is read from the README itself.
func TestTrajectoriesWithPandas(t *testing.T) {
	t.Parallel()
	python := ""
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if err := exec.Command(c, "-c", "import pandas").Run(); err == nil {
			python = c
			break
		}
	}
	if python == "" {
		t.Skip("SKIPPED: no python3 with pandas (apt-get install python3-pandas)")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```python\n")
	script, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(script, "trajectories.csv") {
		t.Fatal("README.md has no python example reading trajectories.csv")
	}
	dir, trials, recs := trajectoriesOf(t)
	quick := filepath.Join(filepath.Dir(dir), "quick") // the README's directory
	if err := os.Rename(dir, quick); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Dir = filepath.Dir(quick)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, out)
	}
	// One line per η of seed 0 (both widths share the grid's η).
	etas := map[float64]bool{}
	for _, tr := range trials {
		etas[tr.Params["eta"]] = true
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(etas) || !strings.HasPrefix(lines[0], "η = 0.0001: final bias ") || len(recs) < 2 {
		t.Errorf("the README's script printed %d lines for %d η values:\n%s", len(lines), len(etas), out)
	}
}
