package trialscsv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name, csv string
		rows      int
		listed    map[string]int
		bad       bool
	}{
		{name: "once each", csv: "eta,seed,final_bias,wall_ms,learned\n1,0,-0.1,12,true\n1,1,-0.2,13,true\n",
			rows: 2, listed: map[string]int{"1,0": 1, "1,1": 1}},
		{name: "a trial twice", csv: "eta,seed,final_bias,wall_ms\n1,0,-0.1,12\n1,0,-0.1,14\n",
			rows: 2, listed: map[string]int{"1,0": 2}},
		{name: "no result column", csv: "eta,seed\n1,0\n", bad: true},
		{name: "empty", csv: "", bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, c.name+".csv")
			if err := os.WriteFile(p, []byte(c.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			tr, err := Read(p)
			if c.bad {
				if err == nil {
					t.Fatal("read without error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Rows != c.rows || len(tr.Listed) != len(c.listed) {
				t.Fatalf("rows %d listed %v, want %d %v", tr.Rows, tr.Listed, c.rows, c.listed)
			}
			for k, n := range c.listed {
				if tr.Listed[k] != n {
					t.Errorf("trial %s listed %d times, want %d", k, tr.Listed[k], n)
				}
				if got := tr.Results[k][1]; got != "" {
					t.Errorf("trial %s wall_ms %q, want blanked", k, got)
				}
			}
		})
	}
}
