package report

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// newPlot returns a panel's plot in the figure's typography: the y label
// (the x label is the figure's, below all panels), a log or linear η axis
// and a light grid.
func (st style) newPlot(ylabel string, logX bool) *plot.Plot {
	p := plot.New()
	p.TextHandler = textHandler
	p.BackgroundColor = background
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		// fonts and handler only: gonum's alignments (and its rotation of
		// the y label) stay
		a.Label.TextStyle.Font, a.Label.TextStyle.Handler = font.From(plot.DefaultFont, st.label), textHandler
		a.Tick.Label.Font, a.Tick.Label.Handler = font.From(plot.DefaultFont, st.tick), textHandler
		a.LineStyle.Width = st.thin
		a.Tick.LineStyle.Width = st.thin
		a.Tick.Length = 0.3 * st.label
		a.Padding = 0.2 * st.label
		a.Label.Padding = 0.2 * st.label
	}
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = plot.TickerFunc(linTicks)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.TickerFunc(logTicks)
	} else {
		p.X.Tick.Marker = plot.TickerFunc(linTicks)
	}
	g := plotter.NewGrid()
	g.Vertical = draw.LineStyle{Color: gridColor, Width: vg.Points(0.4)}
	g.Horizontal = g.Vertical
	p.Add(g)
	return p
}

// logY puts the plot's y axis on a log scale.
func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(logTicks)
}

// vline is a vertical line at x from y0 to y1.
func vline(x, y0, y1 float64, c color.Color, w vg.Length, dash []vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}}}
	l.LineStyle = draw.LineStyle{Color: c, Width: w, Dashes: dash}
	return l
}

// hline is a horizontal line at y from x0 to x1.
func hline(y, x0, x1 float64, c color.Color, w vg.Length, dash []vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}}}
	l.LineStyle = draw.LineStyle{Color: c, Width: w, Dashes: dash}
	return l
}

// band is a shaded rectangle over [x0, x1] × [y0, y1].
func band(x0, x1, y0, y1 float64, c color.Color) *plotter.Polygon {
	return &plotter.Polygon{XYs: []plotter.XYs{{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}}, Color: c}
}

// span is the range of finite values, widened a little; (−1, 1) when empty.
type span struct{ lo, hi float64 }

func newSpan() span { return span{math.Inf(1), math.Inf(-1)} }

func (s *span) add(v ...float64) {
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s.lo, s.hi = math.Min(s.lo, x), math.Max(s.hi, x)
		}
	}
}

func (s span) empty() bool { return s.lo > s.hi }

func (s span) padded() (float64, float64) {
	if s.empty() {
		return -1, 1
	}
	pad := 0.06 * (s.hi - s.lo)
	if pad == 0 {
		pad = 0.05*math.Abs(s.hi) + 1e-3
	}
	return s.lo - pad, s.hi + pad
}

// logPadded widens a positive range by a few percent in log.
func (s span) logPadded() (float64, float64) {
	if s.empty() || s.lo <= 0 {
		return 1e-3, 1
	}
	return s.lo / 1.15, s.hi * 1.15
}

// minus is the typographic minus sign.
const minus = "−"

// decimal formats v with the fewest digits that tell the ticks apart
// (at most prec significant digits), with a proper minus sign.
func decimal(v float64, prec int) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'g', prec, 64)
	if strings.ContainsAny(s, "e") {
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Replace(s, "-", minus, 1)
}

// power is 10^{e} in the notation ("1" and "10" for e = 0, 1).
func power(e int) string {
	switch e {
	case 0:
		return "1"
	case 1:
		return "10"
	}
	return "10^{" + strings.Replace(strconv.Itoa(e), "-", minus, 1) + "}"
}

// sci formats v in three significant digits as m×10^{e} (plain decimals
// between 0.01 and 1000).
func sci(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return decimal(v, 3)
	}
	a := math.Abs(v)
	if a >= 0.01 && a < 1000 {
		return decimal(v, 3)
	}
	e := int(math.Floor(math.Log10(a)))
	m := v / math.Pow(10, float64(e))
	if math.Abs(m) >= 9.995 { // rounds up to 10
		m /= 10
		e++
	}
	return strings.Replace(strconv.FormatFloat(m, 'f', 2, 64), "-", minus, 1) + "×" + power(e)
}

// logTicks marks a log axis: every decade labelled (as a power of ten, or
// as a decimal when the axis lies within 0.01 … 1000), and over less than
// 1.5 decades also 2× and 5×; every integer multiple of a decade gets a
// minor tick.
func logTicks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	narrow := math.Log10(hi/lo) < 1.5
	plain := lo >= 0.01 && hi <= 1000
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		dec := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * dec
			if v < lo/1.0001 || v > hi*1.0001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (narrow && (m == 2 || m == 5)) {
				switch {
				case plain:
					t.Label = decimal(v, 6)
				case m == 1:
					t.Label = power(int(e))
				default:
					t.Label = strconv.Itoa(m) + "×" + power(int(e))
				}
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// linTicks marks a linear axis every 1, 2, 2.5 or 5 × 10^k, four to seven
// labels, formatted with as few digits as they need.
func linTicks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	raw := (hi - lo) / 5
	dec := math.Pow(10, math.Floor(math.Log10(raw)))
	step := dec
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * dec
		if (hi-lo)/step <= 6.5 {
			break
		}
	}
	var ticks []plot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: decimal(v, 6)})
	}
	return ticks
}
