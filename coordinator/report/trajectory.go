package report

import (
	"fmt"
	"image/color"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// plotTrajectory draws one trial's loss, bias and sharpness against the step,
// with the stability limit 2/η on the sharpness panel.
func plotTrajectory(path, model string, t boundary.Trial, opt Options) error {
	traj := t.Result.Trajectory
	if len(traj) == 0 {
		return fmt.Errorf("trial %v has no trajectory", t.Params)
	}
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
		if pt.Sharpness != 0 { // 0: not measured at this step
			sharp = append(sharp, plotter.XY{X: x, Y: pt.Sharpness})
			ss.add(pt.Sharpness)
		}
	}
	limit := 2 / eta
	ss.add(limit)
	title := fmt.Sprintf("%s trial %s%s", model, paramText(t.Params), divergedText(t))
	panels := []struct {
		label string
		xys   plotter.XYs
		ys    span
		c     color.Color
	}{
		{"loss", loss, ls, groupColor(0)},
		{"bias b", bias, bs, groupColor(1)},
		{"sharpness", sharp, ss, groupColor(2)},
	}
	plots := make([]*plot.Plot, 0, len(panels))
	for i, pn := range panels {
		p := newPlot("", "step", pn.label, false)
		if i == 0 {
			p.Title.Text = title
		}
		p.X.Min, p.X.Max = xs.padded()
		p.Y.Min, p.Y.Max = pn.ys.padded()
		if len(pn.xys) > 0 {
			l, err := plotter.NewLine(pn.xys)
			if err != nil {
				return err
			}
			l.LineStyle = draw.LineStyle{Color: pn.c, Width: vg.Points(1.2)}
			p.Add(l)
		}
		if i == 2 {
			p.Add(hline(limit, p.X.Min, p.X.Max, theoryColor, dashed))
			p.Y.Label.Text = fmt.Sprintf("sharpness (red: 2/η = %.4g)", limit)
		}
		plots = append(plots, p)
	}
	return savePanels(path, opt.Width, opt.Height, plots...)
}

// paramText renders parameters as "k=v ..." with eta, width, seed first.
func paramText(p map[string]float64) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
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
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(p[k], 'g', 5, 64)
	}
	return strings.Join(parts, " ")
}

func divergedText(t boundary.Trial) string {
	if t.Result.Diverged {
		return " (diverged)"
	}
	return ""
}
