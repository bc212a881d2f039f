package report

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/eosweep/eosweep/engine"
)

// The η ranges of the paper's Figure 1 (sparse, d = 200): the panels'
// linear axis and the insets' zoom. Trials beyond Paper1EtaMax are left out
// of the figure (the curves run on to the axis' edge). For the other models
// the axis runs to the sweep's largest η and the inset to an eighth of it,
// the paper's proportion.
const (
	Paper1EtaMax   = 0.012
	Paper1InsetMax = 0.0015
)

// Paper1Name is the file name of the paper's Figure 1.
const Paper1Name = "paper1"

// Paper1Figure is the paper's Figure 1 as the paper lays it out: two
// panels, the final bias and the final test accuracy (%) against η on a
// linear axis 0 … Paper1EtaMax, each with an inset zoomed to
// 0 … Paper1InsetMax (for sparse; see Paper1EtaMax for the other models),
// and the theory line (8π/d² for sparse) dashed in both.
// Every group is a curve of per-η means over seeds (± 1 sd). The insets sit
// in the corner of their panel that needs the least extra room, and the
// panel's y range grows until no point, error bar or curve runs under them.
func Paper1Figure(d *Data, size Size) (*Figure, error) {
	st := styleFor(size)
	qs := []quantity{biasQ, accQ}
	if d.Model != engine.ModelSparse && d.Model != engine.ModelReLU {
		qs = qs[:1] // no data, no accuracy
	}
	rows, cols := grid(size, len(qs))
	f := newFigure(Paper1Name, st, rows, cols)
	f.xlabel = "step size $η$"
	xmax, zoomMax := paper1Range(d)
	f.note = fmt.Sprintf("%s: per-$η$ mean over seeds ± 1 sd (within the seeds' range); insets: $η$ ≤ %s", d.Model, decimal(zoomMax, 6))
	for qi, q := range qs {
		main, err := paper1Plot(f, d, q, st, xmax, false)
		if err != nil {
			return nil, err
		}
		main.p.Y.Label.Text = q.label
		main.shareX = rows > 1 && qi < len(qs)-1
		zoom, err := paper1Plot(f, d, q, st, zoomMax, true)
		if err != nil {
			return nil, err
		}
		zoom.p.X.Tick.Marker = insetTicks{}
		main.insets = []*inset{{panel: *zoom.panel, at: placeInset(main.p, main.avoid)}}
		f.panels = append(f.panels, main.panel)
	}
	return f.finish(), nil
}

// paper1Range is the η axis' end and the insets' end.
func paper1Range(d *Data) (float64, float64) {
	if d.Model == engine.ModelSparse {
		return Paper1EtaMax, Paper1InsetMax
	}
	hi := 0.0
	for _, t := range d.Trials {
		hi = math.Max(hi, t.Params["eta"])
	}
	if !(hi > 0) {
		hi = 1
	}
	return hi, hi / 8
}

// paper1Panel is a panel of Figure 1 with the points an inset must avoid.
type paper1Panel struct {
	*panel
	avoid plotter.XYs // points, error-bar ends and curve crossings
}

// paper1Plot draws q for every group over η ∈ [0, xmax]: the means with
// error bars at the η inside, the curve on to the axis' edge, and the theory
// line of every group. The main panel adds the legend entries; an inset
// (small) has smaller text and marks, and its axes on its frame.
func paper1Plot(f *Figure, d *Data, q quantity, st style, xmax float64, small bool) (*paper1Panel, error) {
	p := st.newPlot("", false)
	legend := !small
	if small {
		p.X.Tick.Label.Font.Size = st.tick - 1
		p.Y.Tick.Label.Font.Size = st.tick - 1
		p.X.Padding, p.Y.Padding = 0, 0
		st.marker *= 0.7
	}
	p.X.Min, p.X.Max = 0, xmax
	pn := &paper1Panel{panel: &panel{p: p}}
	ys := newSpan()
	for gi := range d.Groups {
		ms := means(d.groupTrials(gi), q)
		var in []etaMean
		var curve plotter.XYs
		for i, m := range ms {
			if m.eta <= xmax {
				in = append(in, m)
				curve = append(curve, plotter.XY{X: m.eta, Y: m.mean})
			} else if i > 0 && ms[i-1].eta <= xmax {
				// on to the edge: the curve between the last point inside and
				// the first outside, cut at xmax
				a := ms[i-1]
				y := a.mean + (m.mean-a.mean)*(xmax-a.eta)/(m.eta-a.eta)
				curve = append(curve, plotter.XY{X: xmax, Y: y})
				ys.add(y)
			}
		}
		if len(in) == 0 {
			continue
		}
		c := groupColor(gi)
		xys := make(plotter.XYs, len(in))
		errs := make(plotter.YErrors, len(in))
		for i, m := range in {
			lo, hi := m.bar()
			xys[i] = plotter.XY{X: m.eta, Y: m.mean}
			errs[i].Low, errs[i].High = m.mean-lo, hi-m.mean
			ys.add(lo, hi)
			pn.avoid = append(pn.avoid, plotter.XY{X: m.eta, Y: lo}, plotter.XY{X: m.eta, Y: hi})
		}
		pn.avoid = append(pn.avoid, curve...)
		pn.avoid = append(pn.avoid, densify(curve, 64)...)
		l, err := plotter.NewLine(curve)
		if err != nil {
			return nil, err
		}
		l.LineStyle = draw.LineStyle{Color: c, Width: st.line}
		bars := &plotter.YErrorBars{XYs: xys, YErrors: errs, CapWidth: 1.6 * st.marker, LineStyle: draw.LineStyle{Color: c, Width: st.thin}}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: st.marker, Shape: draw.CircleGlyph{}}
		p.Add(bars, l, sc)
		pn.marks = append(pn.marks, xys)
		if legend {
			f.addLegend(d.groupLabel(gi), l, &glyphThumb{sc.GlyphStyle})
		}
	}
	p.Y.Min, p.Y.Max = ys.padded()
	for gi, g := range d.Groups {
		if g.Theory == nil || !(*g.Theory > 0 && *g.Theory < xmax) {
			continue
		}
		c, thumb, label := d.theoryStyle(gi)
		// Drawn over the whole y range, whatever the inset placement adds.
		p.Add(&fullHeight{x: *g.Theory, ls: draw.LineStyle{Color: c, Width: st.line, Dashes: dashed}})
		pn.theory = append(pn.theory, *g.Theory)
		if legend {
			f.addLegend(label, vline(0, 0, 1, thumb, st.line, dashed))
		}
	}
	return pn, nil
}

// densify returns n points along each segment of a polyline, so that an
// inset placed by points also avoids the lines between them.
func densify(xys plotter.XYs, n int) plotter.XYs {
	var out plotter.XYs
	for i := 1; i < len(xys); i++ {
		a, b := xys[i-1], xys[i]
		for k := 1; k < n; k++ {
			t := float64(k) / float64(n)
			out = append(out, plotter.XY{X: a.X + t*(b.X-a.X), Y: a.Y + t*(b.Y-a.Y)})
		}
	}
	return out
}

// fullHeight is a vertical line at x over the plot's whole y range.
type fullHeight struct {
	x  float64
	ls draw.LineStyle
}

func (v *fullHeight) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	x := tx(v.x)
	h := v.ls.Width / 2 // the line's caps stay inside the data area
	c.StrokeLine2(v.ls, x, c.Min.Y+h, x, c.Max.Y-h)
}

// insetTicks keeps the labels of every other tick of the linear ticks (0,
// 0.001 of 0, 0.0005, …, 0.0015), so that long labels do not crowd an
// inset's small axis.
type insetTicks struct{}

func (insetTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := linTicks(lo, hi)
	for i := range ts {
		if i%2 == 1 {
			ts[i].Label = ""
		}
	}
	return ts
}

// Inset geometry, in fractions of the data area.
const (
	insetW      = 0.47
	insetH      = 0.47
	insetMargin = 0.05
)

// placeInset picks the corner of p's data area for an inset and widens p's
// y range so that no point of avoid lies under it (plus a margin): of the
// four corners, the one that needs the least widening, the right ones
// first (the theory line sits at small η). It returns the inset's rectangle
// in the unit square of the data area.
func placeInset(p *plot.Plot, avoid plotter.XYs) vg.Rectangle {
	type corner struct {
		right, top bool
	}
	corners := []corner{{true, true}, {true, false}, {false, true}, {false, false}}
	lo, hi := p.Y.Min, p.Y.Max
	rng := hi - lo
	best, bestCost := corners[0], math.Inf(1)
	var bestLo, bestHi float64
	for _, c := range corners {
		x0, x1 := 0.0, insetW+insetMargin
		if c.right {
			x0, x1 = 1-insetW-insetMargin, 1
		}
		nlo, nhi := lo, hi
		frac := insetH + insetMargin
		for _, xy := range avoid {
			xn := p.X.Norm(xy.X)
			if xn < x0 || xn > x1 || math.IsNaN(xy.Y) {
				continue
			}
			if c.top {
				nhi = math.Max(nhi, lo+(xy.Y-lo)/(1-frac))
			} else {
				nlo = math.Min(nlo, (xy.Y-frac*hi)/(1-frac))
			}
		}
		cost := (nhi - hi + lo - nlo) / rng
		if cost < bestCost-1e-9 {
			best, bestCost, bestLo, bestHi = c, cost, nlo, nhi
		}
	}
	p.Y.Min, p.Y.Max = bestLo, bestHi
	// the inset's own margin inside the data area
	const edge = 0.025
	r := vg.Rectangle{Min: vg.Point{X: edge, Y: edge}, Max: vg.Point{X: edge + insetW, Y: edge + insetH}}
	if best.right {
		r.Min.X, r.Max.X = 1-edge-insetW, 1-edge
	}
	if best.top {
		r.Min.Y, r.Max.Y = 1-edge-insetH, 1-edge
	}
	return r
}
