package report

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// A report whose trajectories come apart from the analysis
// (Options.Trajectories), in any order, again, or of trials it does not
// hold, is the report of the analysis holding them, byte for byte; its
// temporary file is gone. A trajectory that never comes fails it.
func TestWriteStreamedTrajectories(t *testing.T) {
	t.Parallel()
	trials := synthetic()
	byID := map[string][]engine.Point{}
	lean := make([]boundary.Trial, len(trials))
	for i := range trials {
		trials[i].ID = fmt.Sprintf("t%03d", i)
		byID[trials[i].ID] = trials[i].Result.Trajectory
		lean[i] = trials[i]
		lean[i].Result.Trajectory = nil
	}
	byID["t000"] = nil // a trial without a trajectory
	trials[0].Result.Trajectory, lean[0].Result.Trajectory = nil, nil
	analyse := func(ts []boundary.Trial) boundary.Analysis {
		a, err := boundary.Analyze(ts, syntheticOptions)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	files := []string{TrialsCSV, TrajectoriesCSV, BoundaryJSON, TrajectoryName + ".svg"}
	write := func(a boundary.Analysis, each func(func(string, []engine.Point) error) error) (string, error) {
		dir := filepath.Join(t.TempDir(), "report")
		return dir, Write(dir, a, Options{DPI: 20, Figures: []string{TrajectoryName}, Trajectories: each})
	}
	wantDir, err := write(analyse(trials), nil)
	if err != nil {
		t.Fatal(err)
	}
	orders := map[string]func([]string) []string{
		"in file order": func(ids []string) []string { return ids },
		"reversed": func(ids []string) []string {
			out := make([]string, len(ids))
			for i, id := range ids {
				out[len(ids)-1-i] = id
			}
			return out
		},
		"shuffled, repeated, with strangers": func(ids []string) []string {
			out := append([]string{"stranger"}, ids...)
			out = append(out, ids[:7]...)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			return out
		},
	}
	a := analyse(lean)
	var fileOrder []string
	for _, i := range trialOrder(a.Trials, a.OrderParameters) {
		fileOrder = append(fileOrder, a.Trials[i].ID)
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ids := order(fileOrder)
			dir, err := write(a, func(fn func(string, []engine.Point) error) error {
				for _, id := range ids {
					if err := fn(id, byID[id]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				got, err1 := os.ReadFile(filepath.Join(dir, f))
				want, err2 := os.ReadFile(filepath.Join(wantDir, f))
				if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
					t.Errorf("%s differs from the report of trials holding their trajectories (%v, %v)", f, err1, err2)
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != len(allFiles(t, wantDir)) {
				t.Errorf("%d files, want %d (the temporary file left?)", len(ents), len(allFiles(t, wantDir)))
			}
		})
	}
	_, err = write(a, func(fn func(string, []engine.Point) error) error {
		for _, id := range fileOrder[1:] {
			if err := fn(id, byID[id]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		t.Error("a trajectory that never came: no error")
	}
	stop := errors.New("stop")
	if _, err := write(a, func(func(string, []engine.Point) error) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("the source's error: got %v", err)
	}
}

func allFiles(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ents
}
