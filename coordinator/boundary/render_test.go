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
