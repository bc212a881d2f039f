package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// TrajectoryFigure draws one trial's loss, bias and sharpness against the
// step, with the stability limit 2/η on the sharpness panel (a log axis
// when the sharpness spans more than a factor 20).
func TrajectoryFigure(model string, t boundary.Trial, size Size) (*Figure, error) {
	traj := t.Result.Trajectory
	if len(traj) == 0 {
		return nil, fmt.Errorf("trial %v has no trajectory", t.Params)
	}
	st := styleFor(size)
	eta := t.Params["eta"]
	loss := make(plotter.XYs, len(traj))
	bias := make(plotter.XYs, len(traj))
	var sharp plotter.XYs
	xs := newSpan()
	ls, bs, ss := newSpan(), newSpan(), newSpan()
	for i, pt := range traj {
		x := float64(pt.Step)
		xs.add(x)
		loss[i] = plotter.XY{X: x, Y: pt.Loss}
		bias[i] = plotter.XY{X: x, Y: pt.Bias}
		ls.add(pt.Loss)
		bs.add(pt.Bias)
		if pt.Sharpness > 0 { // 0: not measured at this step
			sharp = append(sharp, plotter.XY{X: x, Y: pt.Sharpness})
			ss.add(pt.Sharpness)
		}
	}
	limit := 2 / eta
	ss.add(limit)
	panels := []struct {
		label string
		xys   plotter.XYs
		ys    span
		c     color.Color
	}{
		{"loss $F(θ_t)$", loss, ls, groupColor(0)},
		{"bias $b_t$", bias, bs, groupColor(1)},
		{"sharpness $S(θ_t)$", sharp, ss, groupColor(2)},
	}
	rows, cols := grid(size, len(panels))
	f := newFigure(TrajectoryName, st, rows, cols)
	f.xlabel = "step $t$"
	f.note = fmt.Sprintf("%s trial: %s%s", model, paramText(model, t.Params), divergedText(t))
	for i, pn := range panels {
		p := st.newPlot(pn.label, false)
		p.X.Min, p.X.Max = xs.padded()
		p.X.Min = math.Max(p.X.Min, 0)
		p.Y.Min, p.Y.Max = pn.ys.padded()
		if i == 2 && !pn.ys.empty() && pn.ys.lo > 0 && pn.ys.hi/pn.ys.lo > 20 {
			logY(p)
			p.Y.Min, p.Y.Max = pn.ys.logPadded()
		}
		fp := &panel{p: p, shareX: rows > 1 && i < len(panels)-1}
		if len(pn.xys) > 0 {
			l, err := plotter.NewLine(pn.xys)
			if err != nil {
				return nil, err
			}
			l.LineStyle = draw.LineStyle{Color: pn.c, Width: st.line}
			p.Add(l)
			fp.marks = append(fp.marks, pn.xys)
		}
		if i == 2 {
			p.Add(hline(limit, p.X.Min, p.X.Max, theoryColor, st.line, dashed))
			f.addLegend("stability limit $2/η$ = "+sci(limit), hline(0, 0, 1, theoryColor, st.line, dashed))
		}
		f.panels = append(f.panels, fp)
	}
	return f.finish(), nil
}

// paramText renders the trial's parameters in the notation, η, width and
// seed first, then the rest by name ("$η$ = 0.001, $d$ = 200, seed 0, ...").
func paramText(model string, p map[string]float64) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	SortParams(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := strconv.FormatFloat(p[k], 'g', 5, 64)
		if k == "seed" {
			parts[i] = "seed " + v
			continue
		}
		parts[i] = paramSymbol(model, k) + " = " + v
	}
	return strings.Join(parts, ", ")
}

func divergedText(t boundary.Trial) string {
	if t.Result.Diverged {
		return " (diverged)"
	}
	return ""
}

// SortParams orders parameter names as eosweep shows them: η, width, x0 and
// seed first, then the others by name.
func SortParams(keys []string) {
	rank := map[string]int{"eta": 0, "width": 1, "x0": 2, "seed": 3}
	sort.Slice(keys, func(i, j int) bool {
		ri, iok := rank[keys[i]]
		rj, jok := rank[keys[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return keys[i] < keys[j]
	})
}
