package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// dpi is the resolution of every PNG: Options.Width/Height are pixels at it.
const dpi = 96

// pixels converts a pixel count at dpi into a vg length.
func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }

// palette of the group colours (Okabe–Ito, readable by colour-blind readers).
var groupColors = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // bluish green
	color.RGBA{204, 121, 167, 255}, // reddish purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{120, 120, 120, 255}, // grey
	color.RGBA{0, 0, 0, 255},       // black
}

func groupColor(i int) color.Color { return groupColors[i%len(groupColors)] }

var (
	theoryColor    = color.RGBA{200, 0, 0, 255}
	stabilityColor = color.RGBA{0, 90, 200, 255}
	estimateColor  = color.RGBA{0, 0, 0, 255}
	bandColor      = color.RGBA{0, 0, 0, 28}
	dashed         = []vg.Length{vg.Points(5), vg.Points(3)}
	dotted         = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
)

// newPlot returns a plot with the given labels and, when logX, a log η axis.
func newPlot(title, xlabel, ylabel string, logX bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.TickerFunc(logTicks)
	}
	p.Add(plotter.NewGrid())
	return p
}

// savePanels draws plots stacked vertically (x axes aligned) into a PNG of
// w×h pixels at path.
func savePanels(path string, w, h int, plots ...*plot.Plot) error {
	img := vgimg.NewWith(vgimg.UseWH(pixels(w), pixels(h)), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	rows := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(6)}
	canvases := plot.Align(rows, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	return writePNG(path, img)
}

func writePNG(path string, img *vgimg.Canvas) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// vline is a vertical line at x from y0 to y1.
func vline(x, y0, y1 float64, c color.Color, dash []vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}}}
	l.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.2), Dashes: dash}
	return l
}

// hline is a horizontal line at y from x0 to x1.
func hline(y, x0, x1 float64, c color.Color, dash []vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}}}
	l.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.2), Dashes: dash}
	return l
}

// band is a shaded vertical band over [x0, x1] × [y0, y1].
func band(x0, x1, y0, y1 float64, c color.Color) *plotter.Polygon {
	pg := &plotter.Polygon{XYs: []plotter.XYs{{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}}, Color: c}
	return pg
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

func (s span) padded() (float64, float64) {
	if s.lo > s.hi {
		return -1, 1
	}
	pad := 0.05 * (s.hi - s.lo)
	if pad == 0 {
		pad = 0.05*math.Abs(s.hi) + 1e-3
	}
	return s.lo - pad, s.hi + pad
}

// logPadded widens a positive range by a few percent in log.
func (s span) logPadded() (float64, float64) {
	if s.lo > s.hi || s.lo <= 0 {
		return 1e-3, 1
	}
	return s.lo / 1.15, s.hi * 1.15
}

// logTicks marks a log axis: decades labelled, and over a range of less than
// two decades also 2× and 5× each decade, so that a narrow η range still
// has labels; every integer multiple of a decade gets a minor tick.
func logTicks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	narrow := math.Log10(hi/lo) < 2
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
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
