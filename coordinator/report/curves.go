package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// quantity is one panel of the curves against η: a per-row mean and spread,
// and the per-trial value.
type quantity struct {
	label string
	mean  func(boundary.EtaRow) (float64, float64)
	trial func(boundary.Trial) float64
	ref   float64 // a horizontal reference line (NaN for none)
	// cap, when > 0, clips values (and error bars) at it, so that a few huge
	// values do not flatten the interesting range (the edge of stability at 1).
	cap float64
}

// clip returns v clipped at q.cap (unchanged without a cap).
func (q quantity) clip(v float64) float64 {
	if q.cap > 0 && v > q.cap {
		return q.cap
	}
	return v
}

var (
	biasQ = quantity{"final bias b_T",
		func(r boundary.EtaRow) (float64, float64) { return r.MeanBias, r.StdBias },
		func(t boundary.Trial) float64 { return t.Result.FinalBias }, math.NaN(), 0}
	accQ = quantity{"test accuracy",
		func(r boundary.EtaRow) (float64, float64) { return r.MeanTestAcc, r.StdTestAcc },
		func(t boundary.Trial) float64 { return valueOr(t.Result.TestAcc, math.NaN()) }, math.NaN(), 0}
	// eosQ plots the largest η·S/2 of each run: at the edge of stability it
	// sits at ≈1 while the final η·S/2 may have fallen below. Far above η*
	// the first steps catapult it far higher, so the panel is clipped at 3.
	eosQ = quantity{"max η·S/2 in the run (≤ 3)",
		func(r boundary.EtaRow) (float64, float64) { return r.MeanMaxEOSRatio, r.StdMaxEOSRatio },
		func(t boundary.Trial) float64 { return t.Result.MaxEOSRatio }, 1, 3}
)

// valueOr returns *v, or fallback when v is absent.
func valueOr(v *float64, fallback float64) float64 {
	if v == nil {
		return fallback
	}
	return *v
}

// quantities are the panels for these groups: test accuracy only when the
// model reports one.
func quantities(groups []boundary.Group) []quantity {
	for _, g := range groups {
		for _, r := range g.Rows {
			if r.MeanTestAcc != 0 {
				return []quantity{biasQ, accQ, eosQ}
			}
		}
	}
	return []quantity{biasQ, eosQ}
}

// live returns the rows where some seed did not diverge.
func live(rows []boundary.EtaRow) []boundary.EtaRow {
	var out []boundary.EtaRow
	for _, r := range rows {
		if r.Seeds > r.Diverged {
			out = append(out, r)
		}
	}
	return out
}

// meanCurve adds the per-η means of q with error bars (± one standard
// deviation over seeds) in colour c; it returns the line for a legend.
func meanCurve(p *plot.Plot, rows []boundary.EtaRow, q quantity, c color.Color, ys *span) (*plotter.Line, error) {
	xys := make(plotter.XYs, len(rows))
	errs := make(plotter.YErrors, len(rows))
	for i, r := range rows {
		m, s := q.mean(r)
		lo, hi := q.clip(m-s), q.clip(m+s)
		m = q.clip(m)
		xys[i] = plotter.XY{X: r.Eta, Y: m}
		errs[i].Low, errs[i].High = m-lo, hi-m
		ys.add(lo, hi)
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, err
	}
	l.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.5)}
	sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
	bars := &plotter.YErrorBars{XYs: xys, YErrors: errs, CapWidth: vg.Points(3), LineStyle: draw.LineStyle{Color: c, Width: vg.Points(0.8)}}
	p.Add(l, sc, bars)
	return l, nil
}

// finishPanel fixes the axes' ranges and draws the reference line.
func finishPanel(p *plot.Plot, q quantity, xs, ys span) {
	if !math.IsNaN(q.ref) {
		ys.add(q.ref)
	}
	p.X.Min, p.X.Max = xs.logPadded()
	p.Y.Min, p.Y.Max = ys.padded()
	if !math.IsNaN(q.ref) {
		p.Add(hline(q.ref, p.X.Min, p.X.Max, color.Gray{90}, dotted))
	}
}

// plotOverview draws every group's means against η, one colour per group,
// with each group's theory line in its colour: the paper's Figure 1 layout.
func plotOverview(path string, a boundary.Analysis, opt Options) error {
	groups, model := a.Groups, a.Options.Model
	qs := quantities(groups)
	axis := phaseAxis(a.Options.GroupBy, opt)
	labels := rowLabels(groups, axis, a.Options.GroupBy)
	plots := make([]*plot.Plot, len(qs))
	for qi, q := range qs {
		p := newPlot("", "step size η", q.label, true)
		if qi == 0 {
			p.Title.Text = fmt.Sprintf("%s: per-η means over seeds (±1 sd); dashed: theory η*", model)
		}
		xs, ys := newSpan(), newSpan()
		for gi, g := range groups {
			rows := live(g.Rows)
			if len(rows) == 0 {
				continue
			}
			for _, r := range rows {
				xs.add(r.Eta)
			}
			l, err := meanCurve(p, rows, q, groupColor(gi), &ys)
			if err != nil {
				return err
			}
			if qi == 0 {
				name := labels[gi]
				if axis != "" && name == fmt.Sprint(g.Key[axis]) {
					name = axis + " " + name
				}
				p.Legend.Add(name, l)
			}
		}
		finishPanel(p, q, xs, ys)
		for gi, g := range groups {
			if g.Theory != nil && *g.Theory > p.X.Min && *g.Theory < p.X.Max {
				p.Add(vline(*g.Theory, p.Y.Min, p.Y.Max, groupColor(gi), dashed))
			}
		}
		p.Legend.Top = true
		plots[qi] = p
	}
	return savePanels(path, opt.Width, opt.Height, plots...)
}

// plotGroup draws one group's trials (grey points) and means against η, with
// the theory line (red dashed), η* (black) with its CI (grey band), the
// onset (black dotted) and the stability line 2/S₀ (blue dotted).
func plotGroup(path string, a boundary.Analysis, g boundary.Group, opt Options) error {
	model, name := a.Options.Model, boundary.GroupName(a.Options.GroupBy, g.Key)
	var mine []boundary.Trial
	for i, o := range a.OrderParameters {
		if o.Group == name && !a.Trials[i].Result.Diverged {
			mine = append(mine, a.Trials[i])
		}
	}
	qs := quantities([]boundary.Group{g})
	plots := make([]*plot.Plot, len(qs))
	for qi, q := range qs {
		p := newPlot("", "step size η", q.label, true)
		if qi == 0 {
			p.Title.Text = groupTitle(model, name, g)
		}
		xs, ys := newSpan(), newSpan()
		pts := make(plotter.XYs, len(mine))
		for i, t := range mine {
			pts[i] = plotter.XY{X: t.Params["eta"], Y: q.clip(q.trial(t))}
			xs.add(pts[i].X)
			ys.add(pts[i].Y)
		}
		if len(pts) > 0 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: color.Gray{140}, Radius: vg.Points(2), Shape: draw.CrossGlyph{}}
			p.Add(sc)
			if qi == 0 {
				p.Legend.Add("trials", sc)
			}
		}
		if rows := live(g.Rows); len(rows) > 0 {
			l, err := meanCurve(p, rows, q, groupColor(0), &ys)
			if err != nil {
				return err
			}
			if qi == 0 {
				p.Legend.Add("mean ± sd", l)
			}
		}
		finishPanel(p, q, xs, ys)
		addVerticals(p, g, qi == 0)
		p.Legend.Top = true
		plots[qi] = p
	}
	return savePanels(path, opt.Width, opt.Height, plots...)
}

func groupTitle(model, name string, g boundary.Group) string {
	s := fmt.Sprintf("%s %s: η* = %.4g", model, name, g.EtaStar)
	if g.Fit == boundary.FitNone {
		s = fmt.Sprintf("%s %s: no boundary (%s the grid)", model, name, g.Crossing)
	}
	if g.OnsetForm != boundary.OnsetNone {
		s += fmt.Sprintf(", onset = %.4g", g.Onset)
	}
	if g.Theory != nil {
		s += fmt.Sprintf(", theory = %.4g", *g.Theory)
	}
	return s
}

// addVerticals draws the group's estimates and reference lines that fall
// inside the panel's η range.
func addVerticals(p *plot.Plot, g boundary.Group, legend bool) {
	in := func(x float64) bool { return x > p.X.Min && x < p.X.Max }
	y0, y1 := p.Y.Min, p.Y.Max
	type mark struct {
		x     float64
		ok    bool
		c     color.Color
		dash  []vg.Length
		label string
	}
	marks := []mark{
		{g.EtaStar, g.Fit != boundary.FitNone, estimateColor, nil, "η* (logistic)"},
		{g.Onset, g.OnsetForm != boundary.OnsetNone, estimateColor, dotted, "onset (hinge)"},
		{g.Stability, g.Stability > 0, stabilityColor, dotted, "2/S₀"},
	}
	if g.Theory != nil {
		marks = append(marks, mark{*g.Theory, true, theoryColor, dashed, "theory"})
	}
	if g.Fit != boundary.FitNone {
		lo, hi := math.Max(g.CI.Low, p.X.Min), math.Min(g.CI.High, p.X.Max)
		if hi > lo {
			p.Add(band(lo, hi, y0, y1, bandColor))
		}
	}
	for _, m := range marks {
		if !m.ok || !in(m.x) {
			continue
		}
		l := vline(m.x, y0, y1, m.c, m.dash)
		p.Add(l)
		if legend {
			p.Legend.Add(m.label, l)
		}
	}
}
