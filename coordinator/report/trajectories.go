package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
//
// The trajectories are the analysis' own when each is nil, else those each
// gives (Options.Trajectories), in any order. The trajectory of trial index
// plot (−1: none) is returned, a copy.
func writeTrajectoriesCSV(path string, a boundary.Analysis, each func(func(string, []engine.Point) error) error, plot int) ([]engine.Point, error) {
	order := trialOrder(a.Trials, a.OrderParameters)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TrajectoriesCSV, err)
	}
	w := &trajectoryRows{a: a, order: order, out: bufio.NewWriter(f), dir: filepath.Dir(path), plot: plot}
	w.rows = csv.NewWriter(&w.buf)
	defer w.discard()
	fail := func(err error) ([]engine.Point, error) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", TrajectoriesCSV, err)
	}
	w.rows.Write(trajectoriesHeader)
	if err := w.emit(); err != nil {
		return fail(err)
	}
	if each == nil {
		for pos, i := range order {
			if err := w.add(pos, a.Trials[i].Result.Trajectory); err != nil {
				return fail(err)
			}
		}
	} else {
		at := make(map[string]int, len(order)) // trial id → position in the file
		for pos, i := range order {
			at[a.Trials[i].ID] = pos
		}
		err := each(func(id string, traj []engine.Point) error {
			if pos, ok := at[id]; ok { // not in the analysis: finished since it was read
				return w.add(pos, traj)
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	if w.next < len(order) {
		return fail(fmt.Errorf("trial %s: no trajectory was read (did the sweep change while the report was written?)", a.Trials[order[w.next]].ID))
	}
	if err := w.out.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", TrajectoriesCSV, err)
	}
	return w.plotted, nil
}

// trajectoryRows writes trajectories.csv in file order from trajectories
// given in any order: a trial's rows are written at once when its turn has
// come, else set aside in a temporary file next to it until it comes. Held
// are one trial's rows and where each set-aside trial's are.
type trajectoryRows struct {
	a     boundary.Analysis
	order []int // trial indices in file order
	out   *bufio.Writer
	next  int // the position written next
	// aside holds, per position, where its rows are in tmp (n 0: not
	// there; −1: there, without rows).
	aside   []stashed
	dir     string
	tmp     *os.File
	end     int64
	buf     bytes.Buffer // the rows of one trial
	rows    *csv.Writer  // onto buf
	row     []string
	copyBuf []byte
	plot    int // the trial index whose trajectory is kept in plotted
	plotted []engine.Point
}

// stashed is where a trial's rows are in the temporary file.
type stashed struct{ off, n int64 }

// add writes (or sets aside) the rows of the trial at position pos; a
// trajectory given again is skipped.
func (w *trajectoryRows) add(pos int, traj []engine.Point) error {
	if pos < w.next || (w.aside != nil && w.aside[pos].n != 0) {
		return nil
	}
	i := w.order[pos]
	t := w.a.Trials[i]
	if i == w.plot {
		w.plotted = slices.Clone(traj)
	}
	eta, seed, width, err := trajectoryKey(w.a.Options.Model, t.Params)
	if err != nil {
		return fmt.Errorf("trial %s: %w", t.ID, err)
	}
	if len(w.row) == 0 {
		w.row = make([]string, len(trajectoriesHeader))
	}
	row := w.row
	row[0], row[1], row[2], row[3] = t.ID, eta, seed, width
	for _, p := range traj {
		row[4], row[5], row[6], row[7] = strconv.Itoa(p.Step), num(p.Loss), num(p.Bias), ""
		if p.Sharpness != 0 {
			row[7] = num(p.Sharpness)
		}
		w.rows.Write(row) // onto buf: never fails
	}
	if pos == w.next {
		if err := w.emit(); err != nil {
			return err
		}
		w.next++
		return w.drain()
	}
	return w.setAside(pos)
}

// emit writes the rows in buf to the file.
func (w *trajectoryRows) emit() error {
	w.rows.Flush()
	_, err := w.out.Write(w.buf.Bytes())
	w.buf.Reset()
	return err
}

// setAside appends the rows in buf to the temporary file, for position pos.
func (w *trajectoryRows) setAside(pos int) error {
	w.rows.Flush()
	if w.buf.Len() == 0 {
		w.buf.Reset()
		w.aside = w.spans()
		w.aside[pos] = stashed{w.end, -1} // no rows: there, empty
		return nil
	}
	if w.tmp == nil {
		tmp, err := os.CreateTemp(w.dir, ".trajectories-*.tmp")
		if err != nil {
			return err
		}
		w.tmp = tmp
	}
	n, err := w.tmp.Write(w.buf.Bytes())
	w.buf.Reset()
	if err != nil {
		return err
	}
	w.aside = w.spans()
	w.aside[pos] = stashed{w.end, int64(n)}
	w.end += int64(n)
	return nil
}

// spans returns aside, made on the first trajectory set aside.
func (w *trajectoryRows) spans() []stashed {
	if w.aside == nil {
		return make([]stashed, len(w.order))
	}
	return w.aside
}

// drain copies the set-aside rows whose turn has come into the file.
func (w *trajectoryRows) drain() error {
	for w.aside != nil && w.next < len(w.order) && w.aside[w.next].n != 0 {
		s := w.aside[w.next]
		w.aside[w.next] = stashed{}
		w.next++
		if s.n < 0 {
			continue
		}
		if int64(cap(w.copyBuf)) < s.n {
			w.copyBuf = make([]byte, s.n)
		}
		b := w.copyBuf[:s.n]
		if _, err := w.tmp.ReadAt(b, s.off); err != nil {
			return fmt.Errorf("read back: %w", err)
		}
		if _, err := w.out.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// discard removes the temporary file.
func (w *trajectoryRows) discard() {
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
	}
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
