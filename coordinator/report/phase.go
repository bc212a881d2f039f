package report

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// dropScale maps a mean bias drop to the colour axis: log₁₀ of the drop,
// floored at a thousandth of the largest drop of the sweep, so that the small
// drops right at the onset show as clearly as the large ones far above it.
type dropScale struct{ floor float64 }

func newDropScale(groups []boundary.Group) dropScale {
	hi := 0.0
	for _, g := range groups {
		for _, r := range g.Rows {
			if r.Seeds > r.Diverged && !math.IsNaN(r.MeanDrop) {
				hi = math.Max(hi, r.MeanDrop)
			}
		}
	}
	if !(hi > 0) {
		hi = 1
	}
	return dropScale{floor: hi * 1e-3}
}

func (s dropScale) value(drop float64) float64 { return math.Log10(math.Max(drop, s.floor)) }

// colorMap is viridis over the drop's log range.
func (s dropScale) colorMap() palette.ColorMap {
	cm := &viridis{}
	cm.SetMin(s.value(s.floor))
	cm.SetMax(s.value(s.floor * 1e3))
	return cm
}

// ticks are the colour bar's: every decade of the drop in its range,
// labelled as the log axes label theirs, and minor ticks between.
func (s dropScale) ticks() []plot.Tick {
	lo, hi := s.floor, s.floor*1e3
	var out []plot.Tick
	for _, t := range logTicks(lo, hi) {
		out = append(out, plot.Tick{Value: math.Log10(t.Value), Label: t.Label})
	}
	return out
}

func colorAt(cm palette.ColorMap, v float64) color.Color {
	v = math.Min(math.Max(v, cm.Min()), cm.Max())
	c, err := cm.At(v)
	if err != nil {
		return color.Gray{128}
	}
	return c
}

// cell is one η of one group on the phase diagram.
type cell struct {
	x0, x1, y0, y1 float64 // η and row extent
	c              color.Color
	drop           float64 // the mean drop it shows
	diverged       bool
}

// cells is a plotter of filled rectangles in data coordinates.
type cells []cell

func (cs cells) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for _, k := range cs {
		r := vg.Rectangle{Min: vg.Point{X: tx(k.x0), Y: ty(k.y0)}, Max: vg.Point{X: tx(k.x1), Y: ty(k.y1)}}
		r.Max.X += vg.Points(0.3) // overlap the next cell: no seam between equal colours
		c.SetColor(k.c)
		c.Fill(r.Path())
	}
}

func (cs cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, k := range cs {
		xmin, xmax = math.Min(xmin, k.x0), math.Max(xmax, k.x1)
		ymin, ymax = math.Min(ymin, k.y0), math.Max(ymax, k.y1)
	}
	return
}

// rowHalf is half the height of a row's cells (rows are 1 apart).
const rowHalf = 0.42

// divergedColor fills a cell where every seed diverged.
var divergedColor = color.RGBA{190, 190, 190, 255}

// phaseCells lays out one row per group: each η's cell reaches halfway (in
// log η) to its neighbours.
func phaseCells(groups []boundary.Group, scale dropScale, cm palette.ColorMap) cells {
	var out cells
	for gi, g := range groups {
		rows := g.Rows
		for i, r := range rows {
			lo, hi := r.Eta/1.12, r.Eta*1.12
			if i > 0 {
				lo = math.Sqrt(rows[i-1].Eta * r.Eta)
			} else if len(rows) > 1 {
				lo = r.Eta / math.Sqrt(rows[1].Eta/r.Eta)
			}
			if i+1 < len(rows) {
				hi = math.Sqrt(rows[i+1].Eta * r.Eta)
			} else if len(rows) > 1 {
				hi = r.Eta * math.Sqrt(r.Eta/rows[i-1].Eta)
			}
			k := cell{x0: lo, x1: hi, y0: float64(gi) - rowHalf, y1: float64(gi) + rowHalf, drop: r.MeanDrop}
			if r.Seeds == r.Diverged {
				k.c, k.diverged = divergedColor, true
			} else {
				k.c = colorAt(cm, scale.value(r.MeanDrop))
			}
			out = append(out, k)
		}
	}
	return out
}

// PhaseFigure is the phase diagram: one row per group, one cell per η
// coloured by the mean drop of the final bias below its plateau (viridis,
// log scale), and on each group's own row η* and the onset with their 95%
// intervals and the theory and stability lines as marks across the row.
func PhaseFigure(d *Data, size Size) (*Figure, error) {
	st := styleFor(size)
	f := newFigure("phase", st, 1, 1)
	f.xlabel = "step size $η$"
	ylabel := ""
	if d.Axis != "" {
		ylabel = paramSymbol(d.Model, d.Axis)
	}
	p := st.newPlot(ylabel, true)
	p.Y.Tick.Marker = nil
	scale := newDropScale(d.Groups)
	cm := scale.colorMap()
	cs := phaseCells(d.Groups, scale, cm)
	p.Add(cs)
	f.bar = &colorBar{cm: cm, ticks: scale.ticks(), label: "mean drop of $b_T$ below its plateau"}

	xr := newSpan()
	for _, k := range cs {
		xr.add(k.x0, k.x1)
	}
	var centres plotter.XYs
	for _, k := range cs {
		centres = append(centres, plotter.XY{X: math.Sqrt(k.x0 * k.x1), Y: (k.y0 + k.y1) / 2})
	}
	if hasDiverged(cs) {
		f.addLegend("every seed diverged", band(0, 1, 0, 1, divergedColor))
	}
	pn := &panel{p: p, marks: []plotter.XYs{centres}}
	marks := addRowMarks(f, p, d, xr, st)
	pn.marks = append(pn.marks, marks...)
	p.X.Min, p.X.Max = xr.lo, xr.hi
	p.Y.Min, p.Y.Max = -0.5, float64(len(d.Groups))-0.5
	ticks := make([]plot.Tick, len(d.Groups))
	for gi := range d.Groups {
		ticks[gi] = plot.Tick{Value: float64(gi), Label: d.rowLabel(gi)}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.LineStyle.Width = 0
	f.panels = []*panel{pn}
	st.panelH = max(st.panelH, vg.Length(len(d.Groups))*0.32*vg.Inch)
	f.st = st
	return f.finish(), nil
}

func hasDiverged(cs cells) bool {
	for _, k := range cs {
		if k.diverged {
			return true
		}
	}
	return false
}

// addRowMarks draws, on each group's row, the theory line and 2/S₀ as
// vertical strokes across the row, η* (triangle, upper half) and the onset
// (circle, lower half) with their 95% intervals, each over a white halo so
// that it reads on any cell colour. It returns the estimates' points.
// Marks outside the cells' η range are left out (2/S₀ may be far off).
func addRowMarks(f *Figure, p *plot.Plot, d *Data, xr span, st style) []plotter.XYs {
	in := func(x float64) bool { return x >= xr.lo && x <= xr.hi }
	halo := func(ls draw.LineStyle) draw.LineStyle {
		return draw.LineStyle{Color: background, Width: ls.Width + 1.6*st.thin}
	}
	// theory wider than 2/S₀, so that both show where they coincide (mean)
	theory := draw.LineStyle{Color: theoryColor, Width: 2 * st.line, Dashes: dashed}
	stab := draw.LineStyle{Color: stabilityColor, Width: st.line, Dashes: dotted}
	var star, onset plotter.XYs
	var starErr, onsetErr plotter.XErrors
	var haveTheory, haveStab bool
	for gi, g := range d.Groups {
		y := float64(gi)
		for _, m := range []struct {
			x  float64
			ok bool
			ls draw.LineStyle
			on *bool
		}{
			{deref(g.Theory), g.Theory != nil && in(deref(g.Theory)), theory, &haveTheory},
			{g.Stability, g.Stability > 0 && in(g.Stability), stab, &haveStab},
		} {
			if !m.ok {
				continue
			}
			l := vline(m.x, y-rowHalf, y+rowHalf, nil, 0, nil)
			l.LineStyle = halo(m.ls)
			l2 := vline(m.x, y-rowHalf, y+rowHalf, nil, 0, nil)
			l2.LineStyle = m.ls
			p.Add(l, l2)
			*m.on = true
		}
		if g.Fit != boundary.FitNone && g.EtaStar > 0 && in(g.EtaStar) {
			star = append(star, plotter.XY{X: g.EtaStar, Y: y + 0.2})
			starErr = append(starErr, struct{ Low, High float64 }{g.EtaStar - math.Max(g.CI.Low, xr.lo), math.Min(g.CI.High, xr.hi) - g.EtaStar})
		}
		if g.OnsetForm != boundary.OnsetNone && g.Onset > 0 && in(g.Onset) {
			onset = append(onset, plotter.XY{X: g.Onset, Y: y - 0.2})
			onsetErr = append(onsetErr, struct{ Low, High float64 }{g.Onset - math.Max(g.OnsetCI.Low, xr.lo), math.Min(g.OnsetCI.High, xr.hi) - g.Onset})
		}
	}
	if haveTheory {
		f.addLegend("theory "+theorySymbol(d.Model), vline(0, 0, 1, theoryColor, 2*st.line, dashed))
	}
	if haveStab {
		f.addLegend("stability $2/S_0$", vline(0, 0, 1, stabilityColor, st.line, dotted))
	}
	var marks []plotter.XYs
	for _, e := range []struct {
		xys   plotter.XYs
		errs  plotter.XErrors
		shape draw.GlyphDrawer
		label string
	}{
		{star, starErr, draw.PyramidGlyph{}, "$η^*$ (logistic fit), 95% CI"},
		{onset, onsetErr, draw.CircleGlyph{}, "onset (hinge fit), 95% CI"},
	} {
		if len(e.xys) == 0 {
			continue
		}
		haloBars := &plotter.XErrorBars{XYs: e.xys, XErrors: e.errs, CapWidth: 2.4 * st.marker,
			LineStyle: draw.LineStyle{Color: background, Width: st.line + 1.6*st.thin}}
		bars := &plotter.XErrorBars{XYs: e.xys, XErrors: e.errs, CapWidth: 2.4 * st.marker,
			LineStyle: draw.LineStyle{Color: estimateColor, Width: st.line}}
		haloPts, _ := plotter.NewScatter(e.xys)
		haloPts.GlyphStyle = draw.GlyphStyle{Color: background, Radius: 1.6*st.marker + 1.2*st.thin, Shape: e.shape}
		pts, _ := plotter.NewScatter(e.xys)
		pts.GlyphStyle = draw.GlyphStyle{Color: estimateColor, Radius: 1.6 * st.marker, Shape: e.shape}
		p.Add(haloBars, haloPts, bars, pts)
		f.addLegend(e.label, &errBarThumb{bars.LineStyle}, &glyphThumb{pts.GlyphStyle})
		marks = append(marks, e.xys)
	}
	return marks
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// errBarThumb is a legend thumbnail of a horizontal interval with end caps.
type errBarThumb struct{ ls draw.LineStyle }

func (t *errBarThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	h := (c.Max.Y - c.Min.Y) / 3
	x0, x1 := c.Min.X+h/2, c.Max.X-h/2
	c.StrokeLine2(t.ls, x0, y, x1, y)
	c.StrokeLine2(t.ls, x0, y-h, x0, y+h)
	c.StrokeLine2(t.ls, x1, y-h, x1, y+h)
}
