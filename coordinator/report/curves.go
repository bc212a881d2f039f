package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// grid returns the panel grid for n panels: stacked in one column for a
// single-column figure (x shared), side by side for a double-column one.
func grid(size Size, n int) (rows, cols int) {
	if size == SingleColumn {
		return n, 1
	}
	return 1, n
}

// meanCurve adds q's per-η means (± one standard deviation over seeds) in
// colour c; values above q's cap are drawn at the cap as up-triangles. It
// returns the thumbnails for a legend, the points drawn and whether any
// value was clipped.
func meanCurve(p *plot.Plot, ms []etaMean, q quantity, c color.Color, st style, ys *span) ([]plot.Thumbnailer, plotter.XYs, bool, error) {
	if len(ms) == 0 {
		return nil, nil, false, nil
	}
	xys := make(plotter.XYs, len(ms))
	errs := make(plotter.YErrors, len(ms))
	var clipped plotter.XYs
	for i, m := range ms {
		lo, hi := m.bar()
		lo, hi = q.clip(lo), q.clip(hi)
		y := q.clip(m.mean)
		if y != m.mean {
			clipped = append(clipped, plotter.XY{X: m.eta, Y: y})
		}
		xys[i] = plotter.XY{X: m.eta, Y: y}
		errs[i].Low, errs[i].High = y-lo, hi-y
		ys.add(lo, hi)
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, nil, false, err
	}
	l.LineStyle = draw.LineStyle{Color: c, Width: st.line}
	bars := &plotter.YErrorBars{XYs: xys, YErrors: errs, CapWidth: 1.6 * st.marker, LineStyle: draw.LineStyle{Color: c, Width: st.thin}}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, nil, false, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: st.marker, Shape: draw.CircleGlyph{}}
	if len(clipped) > 0 {
		sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
			g := sc.GlyphStyle
			if xys[i].Y >= q.cap && q.cap > 0 {
				g.Shape, g.Radius = draw.TriangleGlyph{}, 1.4*st.marker
			}
			return g
		}
	}
	p.Add(bars, l, sc)
	return []plot.Thumbnailer{l, &glyphThumb{draw.GlyphStyle{Color: c, Radius: st.marker, Shape: draw.CircleGlyph{}}}}, xys, len(clipped) > 0, nil
}

// glyphThumb is a legend thumbnail of one glyph.
type glyphThumb struct{ g draw.GlyphStyle }

func (t *glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(t.g, c.Center()) }

// finishPanel fixes the axes' ranges (x from xs in log, y from ys with the
// reference line) and draws the reference line.
func finishPanel(f *Figure, p *plot.Plot, q quantity, xs, ys span, st style) {
	if !math.IsNaN(q.ref) {
		ys.add(q.ref)
	}
	p.X.Min, p.X.Max = xs.logPadded()
	p.Y.Min, p.Y.Max = ys.padded()
	if !math.IsNaN(q.ref) {
		p.Add(hline(q.ref, p.X.Min, p.X.Max, referenceColor, st.thin, dotted))
		f.addLegend(q.refLabel, hline(0, 0, 1, referenceColor, st.thin, dotted))
	}
}

func clippedEntry(f *Figure, q quantity, st style) {
	f.addLegend(fmt.Sprintf("above %g, drawn at %g", q.cap, q.cap),
		&glyphThumb{draw.GlyphStyle{Color: referenceColor, Radius: 1.4 * st.marker, Shape: draw.TriangleGlyph{}}})
}

// OverviewFigure draws every group's per-η means over seeds (± one sd)
// against η: the final bias, the test accuracy (models with data) and the
// largest η·S/2 after θ₀, one colour per group, with each group's theory
// line dashed in its colour.
func OverviewFigure(d *Data, size Size) (*Figure, error) {
	st := styleFor(size)
	qs := quantities(d.Model)
	rows, cols := grid(size, len(qs))
	f := newFigure("overview", st, rows, cols)
	f.xlabel = "step size $η$"
	xs := newSpan()
	for _, t := range d.Trials {
		xs.add(t.Params["eta"])
	}
	for qi, q := range qs {
		p := st.newPlot(q.label, true)
		pn := &panel{p: p, shareX: rows > 1 && qi < len(qs)-1}
		ys := newSpan()
		for gi := range d.Groups {
			thumbs, pts, clipped, err := meanCurve(p, means(d.groupTrials(gi), q), q, groupColor(gi), st, &ys)
			if err != nil {
				return nil, err
			}
			if thumbs != nil {
				f.addLegend(d.groupLabel(gi), thumbs...)
				pn.marks = append(pn.marks, pts)
			}
			if clipped {
				clippedEntry(f, q, st)
			}
		}
		finishPanel(f, p, q, xs, ys, st)
		for gi, g := range d.Groups {
			if g.Theory != nil && *g.Theory > p.X.Min && *g.Theory < p.X.Max {
				c, thumb, label := d.theoryStyle(gi)
				p.Add(vline(*g.Theory, p.Y.Min, p.Y.Max, c, st.line, dashed))
				f.addLegend(label, vline(0, 0, 1, thumb, st.line, dashed))
			}
		}
		f.panels = append(f.panels, pn)
	}
	f.note = fmt.Sprintf("%s: per-$η$ mean over seeds ± 1 sd (within the seeds' range)", d.Model)
	return f.finish(), nil
}

// MaxTrialMarks bounds the trials a group figure marks one by one: past it
// the figure draws the per-η means and their spread alone. A million
// marks made a 362 MB SVG that took gigabytes to draw, and are no more
// readable than the means.
const MaxTrialMarks = 10_000

// GroupFigure draws one group's trials (grey crosses; for a group of more
// than MaxTrialMarks trials, none, and the note says so) and per-η means
// against η with its estimates: η* (solid) and its 95% interval (grey
// band), the onset (dotted), the theory line (red dashed) and 2/S₀ (blue
// dash-dotted), each with its value in the legend.
func GroupFigure(d *Data, gi int, size Size) (*Figure, error) {
	if gi < 0 || gi >= len(d.Groups) {
		return nil, fmt.Errorf("group %d: there are %d groups", gi, len(d.Groups))
	}
	g := d.Groups[gi]
	st := styleFor(size)
	qs := quantities(d.Model)
	rows, cols := grid(size, len(qs))
	f := newFigure(GroupFile(g.Key), st, rows, cols)
	f.xlabel = "step size $η$"
	f.note = fmt.Sprintf("%s, %s: %d trials", d.Model, d.groupLabel(gi), g.Trials)
	mine := d.groupTrials(gi)
	marks := len(mine) <= MaxTrialMarks // else only the means are drawn
	if !marks {
		f.note += fmt.Sprintf(" (one mark per trial only up to %d)", MaxTrialMarks)
	}
	xs := newSpan()
	for _, i := range d.members[gi] {
		xs.add(d.Trials[i].Params["eta"])
	}
	for qi, q := range qs {
		p := st.newPlot(q.label, true)
		pn := &panel{p: p, shareX: rows > 1 && qi < len(qs)-1}
		ys := newSpan()
		var pts plotter.XYs
		var over []bool // clipped at the cap
		for _, t := range mine {
			if !marks {
				break
			}
			if v := q.value(t); !math.IsNaN(v) && !math.IsInf(v, 0) {
				pts = append(pts, plotter.XY{X: t.Params["eta"], Y: q.clip(v)})
				over = append(over, q.clip(v) != v)
				ys.add(q.clip(v))
			}
		}
		if len(pts) > 0 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: trialColor, Radius: 1.2 * st.marker, Shape: draw.CrossGlyph{}}
			sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
				g := sc.GlyphStyle
				if over[i] {
					g.Shape, g.Radius = draw.TriangleGlyph{}, 1.4*st.marker
				}
				return g
			}
			if slices.Contains(over, true) {
				clippedEntry(f, q, st)
			}
			p.Add(sc)
			f.addLegend("trial (one seed)", sc)
			pn.marks = append(pn.marks, pts)
		}
		thumbs, mpts, clipped, err := meanCurve(p, means(mine, q), q, groupColor(0), st, &ys)
		if err != nil {
			return nil, err
		}
		if thumbs != nil {
			f.addLegend("mean over seeds ± 1 sd (within their range)", thumbs...)
			pn.marks = append(pn.marks, mpts)
		}
		if clipped {
			clippedEntry(f, q, st)
		}
		finishPanel(f, p, q, xs, ys, st)
		addVerticals(f, p, d.Model, g, st)
		f.panels = append(f.panels, pn)
	}
	return f.finish(), nil
}

// addVerticals draws the group's estimates and reference lines that fall
// inside the panel's η range, with their values in the legend.
func addVerticals(f *Figure, p *plot.Plot, model string, g boundary.Group, st style) {
	in := func(x float64) bool { return x > p.X.Min && x < p.X.Max }
	y0, y1 := p.Y.Min, p.Y.Max
	if g.Fit != boundary.FitNone {
		lo, hi := math.Max(g.CI.Low, p.X.Min), math.Min(g.CI.High, p.X.Max)
		if hi > lo {
			b := band(lo, hi, y0, y1, bandColor)
			p.Add(b)
			f.addLegend("95% CI of $η^*$", band(0, 1, 0, 1, bandColor))
		}
	}
	type mark struct {
		x     float64
		ok    bool
		c     color.Color
		w     vg.Length
		dash  []vg.Length
		label string
	}
	marks := []mark{
		{g.EtaStar, g.Fit != boundary.FitNone, estimateColor, st.line, nil, "$η^*$ = " + sci(g.EtaStar) + " (logistic fit)"},
		{g.Onset, g.OnsetForm != boundary.OnsetNone, estimateColor, st.line, dotted, "onset = " + sci(g.Onset) + " (hinge fit)"},
		{g.Stability, g.Stability > 0, stabilityColor, st.line, dashDot, "stability $2/S_0$ = " + sci(g.Stability)},
	}
	if g.Theory != nil {
		marks = append(marks, mark{*g.Theory, true, theoryColor, st.line, dashed, "theory " + theorySymbol(model) + " = " + sci(*g.Theory)})
	}
	for _, m := range marks {
		if !m.ok || !in(m.x) {
			continue
		}
		p.Add(vline(m.x, y0, y1, m.c, m.w, m.dash))
		f.addLegend(m.label, vline(0, 0, 1, m.c, m.w, m.dash))
	}
}

// theoryStyle is the colour of group gi's theory line, the colour of its
// legend thumbnail and the legend label: red for one group, else the
// group's colour (one legend entry for all).
func (d *Data) theoryStyle(gi int) (line, thumb color.Color, label string) {
	label = "theory " + theorySymbol(d.Model)
	if len(d.Groups) == 1 {
		if th := d.Groups[0].Theory; th != nil {
			label += " = " + sci(*th)
		}
		return theoryColor, theoryColor, label
	}
	return groupColor(gi), referenceColor, label + " (in the group's colour)"
}
