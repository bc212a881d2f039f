package report

import (
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

// phaseAxis returns the group axis (of axes, the analysis' GroupBy) that
// labels the rows of the phase diagram.
func phaseAxis(axes []string, opt Options) string {
	if opt.Axis != "" {
		return opt.Axis
	}
	for _, a := range axes {
		if a == "width" {
			return a
		}
	}
	if len(axes) > 0 {
		return axes[0]
	}
	return ""
}

// rowLabels labels each group by its value of axis, or by its whole key when
// that value does not tell the groups apart.
func rowLabels(groups []boundary.Group, axis string, axes []string) []string {
	labels := make([]string, len(groups))
	seen := map[float64]bool{}
	unique := axis != ""
	for _, g := range groups {
		v, ok := g.Key[axis]
		if !ok || seen[v] {
			unique = false
		}
		seen[v] = true
	}
	for i, g := range groups {
		if unique {
			labels[i] = strconv.FormatFloat(g.Key[axis], 'g', -1, 64)
		} else {
			labels[i] = boundary.GroupName(axes, g.Key)
		}
	}
	return labels
}

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

// colorMap is a perceptual scale over the drop's log range.
func (s dropScale) colorMap() palette.ColorMap {
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(s.value(s.floor))
	cm.SetMax(s.value(s.floor * 1e3))
	return cm
}

func colorAt(cm palette.ColorMap, v float64) color.Color {
	v = math.Min(math.Max(v, cm.Min()), cm.Max())
	c, err := cm.At(v)
	if err != nil {
		return color.Gray{128}
	}
	return c
}

// plotPhase draws the phase diagram: one row per group, one cell per η
// coloured by the mean drop (grey crosses where every seed diverged), with
// η* and its CI, the onset and its CI, the theory and stability lines, and a
// colour bar.
func plotPhase(path string, a boundary.Analysis, opt Options) error {
	groups := a.Groups
	axis := phaseAxis(a.Options.GroupBy, opt)
	labels := rowLabels(groups, axis, a.Options.GroupBy)
	scale := newDropScale(groups)
	cm := scale.colorMap()
	ylabel := axis
	if ylabel == "" {
		ylabel = "group"
	}
	p := newPlot("Phase diagram: mean bias drop below the plateau", "step size η", ylabel, true)

	var cells, diverged plotter.XYs
	var cellColors []color.Color
	xr := newSpan()
	for gi, g := range groups {
		for _, r := range g.Rows {
			xr.add(r.Eta)
			if r.Seeds == r.Diverged {
				diverged = append(diverged, plotter.XY{X: r.Eta, Y: float64(gi)})
				continue
			}
			cells = append(cells, plotter.XY{X: r.Eta, Y: float64(gi)})
			cellColors = append(cellColors, colorAt(cm, scale.value(r.MeanDrop)))
		}
	}
	if len(cells) > 0 {
		sc, err := plotter.NewScatter(cells)
		if err != nil {
			return err
		}
		sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
			return draw.GlyphStyle{Color: cellColors[i], Radius: vg.Points(4.5), Shape: draw.BoxGlyph{}}
		}
		p.Add(sc)
	}
	if len(diverged) > 0 {
		sc, err := plotter.NewScatter(diverged)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Gray{150}, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}
		p.Add(sc)
		p.Legend.Add("all seeds diverged", sc)
	}
	if err := addBoundaryMarks(p, groups, &xr); err != nil {
		return err
	}
	p.X.Min, p.X.Max = xr.logPadded()
	p.Y.Min, p.Y.Max = -0.7, float64(len(groups))+0.1
	ticks := make([]plot.Tick, len(labels))
	for i, l := range labels {
		ticks[i] = plot.Tick{Value: float64(i), Label: l}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Legend.Top, p.Legend.Left = true, true

	img := vgimg.NewWith(vgimg.UseWH(pixels(opt.Width), pixels(opt.Height)), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	barW := vg.Points(70)
	p.Draw(draw.Crop(dc, 0, -barW, 0, 0))
	bar := plot.New()
	bar.HideX()
	bar.Y.Label.Text = "log₁₀ mean drop"
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-barW, 0, vg.Points(30), -vg.Points(30)))
	return writePNG(path, img)
}

// addBoundaryMarks adds, per group row, η* with its CI (just above the row),
// the onset with its CI (just below), and the theory and stability lines
// through the rows. xr grows to hold what is drawn; a stability line far
// outside the grid (beyond 3×) is left out rather than squashing the axis.
func addBoundaryMarks(p *plot.Plot, groups []boundary.Group, xr *span) error {
	lo, hi := xr.lo, xr.hi
	var star, onset, theory, stab plotter.XYs
	var starErr, onsetErr plotter.XErrors
	for gi, g := range groups {
		y := float64(gi)
		if g.Fit != boundary.FitNone && g.EtaStar > 0 {
			star = append(star, plotter.XY{X: g.EtaStar, Y: y + 0.25})
			starErr = append(starErr, struct{ Low, High float64 }{g.EtaStar - g.CI.Low, g.CI.High - g.EtaStar})
			xr.add(g.CI.Low, g.CI.High)
		}
		if g.OnsetForm != boundary.OnsetNone && g.Onset > 0 {
			onset = append(onset, plotter.XY{X: g.Onset, Y: y - 0.25})
			onsetErr = append(onsetErr, struct{ Low, High float64 }{g.Onset - g.OnsetCI.Low, g.OnsetCI.High - g.Onset})
			xr.add(g.OnsetCI.Low, g.OnsetCI.High)
		}
		if g.Theory != nil && *g.Theory > 0 {
			theory = append(theory, plotter.XY{X: *g.Theory, Y: y})
			xr.add(*g.Theory)
		}
		if g.Stability > lo/3 && g.Stability < hi*3 {
			stab = append(stab, plotter.XY{X: g.Stability, Y: y})
			xr.add(g.Stability)
		}
	}
	if err := addLine(p, theory, "theory", draw.LineStyle{Color: theoryColor, Width: vg.Points(1.5), Dashes: dashed}, draw.PlusGlyph{}); err != nil {
		return err
	}
	if err := addLine(p, stab, "2/S₀ (stability)", draw.LineStyle{Color: stabilityColor, Width: vg.Points(1.5), Dashes: dotted}, draw.RingGlyph{}); err != nil {
		return err
	}
	if err := addEstimate(p, star, starErr, "η* logistic, 95% CI", draw.PyramidGlyph{}); err != nil {
		return err
	}
	return addEstimate(p, onset, onsetErr, "onset (hinge), 95% CI", draw.CircleGlyph{})
}

// addLine draws a line through xys sorted by y (the group rows), with glyphs.
func addLine(p *plot.Plot, xys plotter.XYs, name string, ls draw.LineStyle, shape draw.GlyphDrawer) error {
	if len(xys) == 0 {
		return nil
	}
	sort.Slice(xys, func(i, j int) bool { return xys[i].Y < xys[j].Y })
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.LineStyle = ls
	s.GlyphStyle = draw.GlyphStyle{Color: ls.Color, Radius: vg.Points(4), Shape: shape}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// addEstimate draws estimates with horizontal error bars.
func addEstimate(p *plot.Plot, xys plotter.XYs, errs plotter.XErrors, name string, shape draw.GlyphDrawer) error {
	if len(xys) == 0 {
		return nil
	}
	bars := &plotter.XErrorBars{XYs: xys, XErrors: errs, CapWidth: vg.Points(5),
		LineStyle: draw.LineStyle{Color: estimateColor, Width: vg.Points(1.2)}}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: estimateColor, Radius: vg.Points(3.5), Shape: shape}
	p.Add(bars, s)
	p.Legend.Add(name, s)
	return nil
}
