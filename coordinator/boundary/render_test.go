package boundary

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func renderGroups() []Group {
	th := 0.5
	return []Group{
		{Key: map[string]float64{"width": 4}, Crossing: CrossingInside, Bracket: Interval{0.49, 0.52},
			EtaStar: 0.505, CI: Interval{0.49, 0.52}, Fit: FitSeparated, Onset: 0.5, OnsetCI: Interval{0.48, 0.51},
			OnsetForm: "log-linear", Theory: &th, Stability: 0.501, Trials: 30},
		{Key: map[string]float64{"width": 8}, Crossing: CrossingAbove, Bracket: Interval{2, 2},
			Fit: FitNone, OnsetForm: OnsetNone, Stability: 0.25, Trials: 12},
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteTable(&buf, renderGroups()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want header + 2:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"width", "η* [95% CI]", "onset [95% CI]", "theory", "2/S₀"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header %q lacks %q", lines[0], want)
		}
	}
	for _, want := range []string{"[0.49, 0.52]", "0.505 [0.49, 0.52]", "0.5 [0.48, 0.51]", "1.0100", "1.0000", "30"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row %q lacks %q", lines[1], want)
		}
	}
	if !strings.Contains(lines[2], "above grid (> 2)") || strings.Count(lines[2], "—") != 5 {
		t.Errorf("row %q: want 'above grid (> 2)' and five dashes (η*, onset, theory, two ratios)", lines[2])
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, renderGroups()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "width" || recs[0][4] != "eta_star" {
		t.Fatalf("csv %v", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if recs[1][col["eta_star"]] != "0.505" || recs[1][col["theory"]] != "0.5" || recs[2][col["theory"]] != "" ||
		recs[2][col["crossing"]] != "above" || recs[1][col["trials"]] != "30" {
		t.Errorf("csv rows %v", recs[1:])
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, renderGroups()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	for _, k := range []string{"group", "eta_star", "ci", "onset", "onset_ci", "bracket", "theory", "stability", "trials"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("record lacks %q: %v", k, got[0])
		}
	}
	if ci, ok := got[0]["ci"].([]any); !ok || len(ci) != 2 || ci[0] != 0.49 || ci[1] != 0.52 {
		t.Errorf("ci = %v, want [0.49, 0.52]", got[0]["ci"])
	}
	if got[1]["theory"] != nil || got[0]["group"].(map[string]any)["width"] != 4.0 {
		t.Errorf("theory %v (want null), group %v", got[1]["theory"], got[0]["group"])
	}
}

// incompleteGroups are renderGroups with the first group missing two failed
// seeds inside its bracket and one diverged trial.
func incompleteGroups() []Group {
	gs := renderGroups()
	gs[0].Missing = []Mark{
		{Trial: "a", Eta: 0.5, Seed: 0, State: "failed", Attempt: 1, Error: "lease expired"},
		{Trial: "b", Eta: 0.5, Seed: 1, State: "failed", Attempt: 1, Error: "lease expired"},
	}
	gs[0].Diverged = []Mark{{Trial: "c", Eta: 9, Seed: 2, State: StateDiverged}}
	gs[0].Incomplete = true
	gs[0].Unconverged = []string{EstimateBracket, EstimateCI}
	return gs
}

// Every form says which trials a group lacks: the table stars the estimates
// that may move and lists the missing and diverged trials below; CSV and JSON
// carry them as fields. Complete groups get empty lists, not null.
func TestRenderIncomplete(t *testing.T) {
	t.Parallel()
	var table bytes.Buffer
	if err := WriteTable(&table, incompleteGroups()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want header, 2 rows, 3 notes:\n%s", len(lines), table.String())
	}
	for i, want := range map[int][]string{
		0: {"missing"},
		1: {"[0.49, 0.52]*", "0.505 [0.49, 0.52]*", "0.5 [0.48, 0.51] ", "  2"},
		3: {"width=4: 2 of 32 trials have no result", "failed at η = 0.5 (seeds 0, 1): lease expired"},
		4: {"width=4: 1 trial diverged", "diverged at η = 9 (seed 2)"},
		5: {"* may still move", "eosweep retry"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
	if strings.Contains(lines[2], "*") {
		t.Errorf("complete group's row has a star: %q", lines[2])
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, incompleteGroups()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for c, want := range map[string][2]string{
		"incomplete":      {"true", "false"},
		"missing":         {"2", "0"},
		"diverged":        {"1", "0"},
		"unconverged":     {"bracket;ci", ""},
		"missing_trials":  {"failed eta=0.5 seed=0; failed eta=0.5 seed=1", ""},
		"diverged_trials": {"diverged eta=9 seed=2", ""},
	} {
		i, ok := col[c]
		if !ok {
			t.Errorf("csv lacks column %q", c)
			continue
		}
		if recs[1][i] != want[0] || recs[2][i] != want[1] {
			t.Errorf("csv %s = %q, %q; want %q, %q", c, recs[1][i], recs[2][i], want[0], want[1])
		}
	}

	buf.Reset()
	if err := WriteJSON(&buf, incompleteGroups()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	missing := got[0]["missing"].([]any)
	first := missing[0].(map[string]any)
	if got[0]["incomplete"] != true || len(missing) != 2 || first["eta"] != 0.5 || first["seed"] != 0.0 ||
		first["state"] != "failed" || first["error"] != "lease expired" || first["trial"] != "a" {
		t.Errorf("json record 0: incomplete %v, missing %v", got[0]["incomplete"], missing)
	}
	if u := got[0]["unconverged"].([]any); len(u) != 2 || u[0] != "bracket" {
		t.Errorf("json unconverged %v", u)
	}
	for _, k := range []string{"missing", "diverged", "unconverged"} {
		if l, ok := got[1][k].([]any); !ok || len(l) != 0 {
			t.Errorf("complete group's %s = %v, want []", k, got[1][k])
		}
	}
}
