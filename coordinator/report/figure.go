package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Size is the width a figure is laid out for.
type Size string

// Sizes of a two-column paper.
const (
	SingleColumn Size = "single" // 3.4 in: one column
	DoubleColumn Size = "double" // 7 in: the text width
)

// ParseSize reads "single" or "double" ("" is double).
func ParseSize(s string) (Size, error) {
	switch Size(s) {
	case "", DoubleColumn:
		return DoubleColumn, nil
	case SingleColumn:
		return SingleColumn, nil
	}
	return "", fmt.Errorf("size %q: want %q (3.4 in, one column) or %q (7 in, the text width)", s, SingleColumn, DoubleColumn)
}

// Width is the figure width of the size.
func (s Size) Width() vg.Length {
	if s == SingleColumn {
		return 3.4 * vg.Inch
	}
	return 7 * vg.Inch
}

// Format is a file format a figure renders to.
type Format string

// The formats Write writes every figure in.
const (
	PNG Format = "png"
	SVG Format = "svg"
	PDF Format = "pdf"
)

// Formats are every format, in the order Write writes them.
var Formats = []Format{PNG, SVG, PDF}

// DefaultDPI is the resolution of PNGs when none is given.
const DefaultDPI = 300

// style is the typography and line weights of one size, in points at the
// printed size (a figure is never scaled: 7 pt text is 7 pt on paper).
type style struct {
	size   Size
	label  vg.Length // axis labels, legend
	tick   vg.Length // tick labels
	line   vg.Length // data lines
	thin   vg.Length // error bars, axes
	marker vg.Length // glyph radius
	pad    vg.Length
	// panelH is the height of one panel row.
	panelH vg.Length
}

func styleFor(s Size) style {
	if s == SingleColumn {
		return style{size: s, label: 8, tick: 7, line: 1, thin: 0.5, marker: 1.6, pad: 3, panelH: 1.45 * vg.Inch}
	}
	return style{size: DoubleColumn, label: 9, tick: 8, line: 1.1, thin: 0.6, marker: 1.9, pad: 4, panelH: 2.1 * vg.Inch}
}

// textHandler typesets every text of a figure (see notation).
var textHandler text.Handler = notation{fonts: font.DefaultCache}

func (st style) textStyle(size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, size), Handler: textHandler}
}

// Colours. Groups use the Okabe–Ito palette (readable by colour-blind readers).
var (
	groupColors = []color.Color{
		color.RGBA{0, 114, 178, 255},   // blue
		color.RGBA{213, 94, 0, 255},    // vermillion
		color.RGBA{0, 158, 115, 255},   // bluish green
		color.RGBA{204, 121, 167, 255}, // reddish purple
		color.RGBA{230, 159, 0, 255},   // orange
		color.RGBA{86, 180, 233, 255},  // sky blue
		color.RGBA{120, 120, 120, 255}, // grey
		color.RGBA{0, 0, 0, 255},       // black
	}
	background     = color.RGBA{255, 255, 255, 255}
	theoryColor    = color.RGBA{200, 0, 0, 255}
	stabilityColor = color.RGBA{0, 90, 200, 255}
	estimateColor  = color.RGBA{0, 0, 0, 255}
	referenceColor = color.RGBA{90, 90, 90, 255}
	trialColor     = color.RGBA{150, 150, 150, 255}
	bandColor      = color.RGBA{0, 0, 0, 36}
	gridColor      = color.RGBA{228, 228, 228, 255}
	dashed         = []vg.Length{vg.Points(4), vg.Points(2.5)}
	dotted         = []vg.Length{vg.Points(1), vg.Points(1.8)}
	dashDot        = []vg.Length{vg.Points(4), vg.Points(1.5), vg.Points(1), vg.Points(1.5)}
)

func groupColor(i int) color.Color { return groupColors[i%len(groupColors)] }

// Figure is one figure, built and ready to draw on any vg canvas: Write
// renders it to PNG, SVG and PDF files; Render writes one format to a
// writer (e.g. an SVG for a web page).
//
// A figure is a grid of panels sharing one legend above them (never over
// the data), one x-axis label below them and, for the phase diagram, a
// colour bar at their right.
type Figure struct {
	// Name is the file name without extension ("phase", "group-width-200").
	Name string
	// Width and Height are the printed size.
	Width, Height vg.Length

	st         style
	rows, cols int
	panels     []*panel // row-major
	legend     []legendEntry
	xlabel     string
	note       string    // one line above the legend (what the figure shows)
	bar        *colorBar // at the right of the panels
}

// panel is one plot of a figure and the data points it shows, which nothing
// else (legend, inset) may cover.
type panel struct {
	p      *plot.Plot
	marks  []plotter.XYs
	insets []*inset
	// shareX hides the x tick labels (a panel above another with the same x).
	shareX bool
	// theory are the x of the theory lines drawn across the panel.
	theory []float64
}

// inset is a small plot drawn inside its panel's data area, at at, a
// rectangle in the unit square of that area.
type inset struct {
	panel
	at vg.Rectangle
}

type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// colorBar is a vertical colour scale right of the panels: the colour map
// over its range, tick marks on its right, and a label.
type colorBar struct {
	cm    palette.ColorMap
	ticks []plot.Tick
	label string
}

// width is the horizontal space the bar takes, its ticks and label included,
// for a bar of height h.
func (b *colorBar) width(st style, h vg.Length) vg.Length {
	ts := st.textStyle(st.tick)
	var w vg.Length
	for _, t := range b.ticks {
		w = max(w, ts.Width(t.Label))
	}
	return 0.8*st.label + st.label + 0.4*st.label + w + 0.5*st.label + st.textStyle(st.label).Height(b.labelFor(st, h))
}

// labelFor is the label, broken into two lines at a space when it is longer
// than the bar's height h.
func (b *colorBar) labelFor(st style, h vg.Length) string {
	if st.textStyle(st.label).Width(b.label) <= h {
		return b.label
	}
	words := strings.Fields(b.label)
	best, bestW := b.label, st.textStyle(st.label).Width(b.label)
	for i := 1; i < len(words); i++ {
		l := strings.Join(words[:i], " ") + "\n" + strings.Join(words[i:], " ")
		if w := st.textStyle(st.label).Width(l); w < bestW {
			best, bestW = l, w
		}
	}
	return best
}

// draw draws the bar from x over the vertical extent of d, its label laid
// out for a height of labelH (as width was).
func (b *colorBar) draw(c draw.Canvas, st style, x vg.Length, d vg.Rectangle, labelH vg.Length) vg.Rectangle {
	x0, x1 := x+0.8*st.label, x+0.8*st.label+st.label
	const n = 128
	lo, hi := b.cm.Min(), b.cm.Max()
	h := d.Max.Y - d.Min.Y
	for i := range n {
		y0 := d.Min.Y + h*vg.Length(i)/n
		y1 := d.Min.Y + h*vg.Length(i+1)/n + h/(4*n) // overlap: no seams
		c.SetColor(colorAt(b.cm, lo+(hi-lo)*(float64(i)+0.5)/n))
		c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: min(y1, d.Max.Y)}}.Path())
	}
	ls := draw.LineStyle{Color: color.Black, Width: st.thin}
	c.StrokeLines(ls, []vg.Point{{X: x0, Y: d.Min.Y}, {X: x1, Y: d.Min.Y}, {X: x1, Y: d.Max.Y}, {X: x0, Y: d.Max.Y}, {X: x0, Y: d.Min.Y}})
	ts := st.textStyle(st.tick)
	ts.YAlign = draw.YCenter
	var labelW vg.Length
	for _, t := range b.ticks {
		if t.Value < lo || t.Value > hi {
			continue
		}
		y := d.Min.Y + h*vg.Length((t.Value-lo)/(hi-lo))
		tl := 0.25 * st.label
		if t.Label == "" {
			tl /= 2
		}
		c.StrokeLine2(ls, x1, y, x1+tl, y)
		if t.Label != "" {
			c.FillText(ts, vg.Point{X: x1 + 0.4*st.label, Y: y}, t.Label)
			labelW = max(labelW, ts.Width(t.Label))
		}
	}
	lt := st.textStyle(st.label)
	lt.Rotation = math.Pi / 2
	lt.XAlign, lt.YAlign = draw.XCenter, draw.YTop
	lx := x1 + 0.4*st.label + labelW + 0.5*st.label
	label := b.labelFor(st, labelH)
	c.FillText(lt, vg.Point{X: lx, Y: (d.Min.Y + d.Max.Y) / 2}, label)
	return vg.Rectangle{Min: vg.Point{X: x0, Y: d.Min.Y}, Max: vg.Point{X: lx + lt.Height(label), Y: d.Max.Y}}
}

// drawn records where a figure put things, for the tests.
type drawn struct {
	legend []vg.Rectangle // one per entry: thumbnail and text
	panels []drawnPanel
	bar    vg.Rectangle
	xlabel vg.Rectangle
}

type drawnPanel struct {
	data   draw.Canvas // the data area
	points []vg.Point  // marks inside the axes' ranges, in canvas coordinates
	insets []drawnPanel
	area   vg.Rectangle // the whole panel (for an inset: what it covers)
}

func newFigure(name string, st style, rows, cols int) *Figure {
	return &Figure{Name: name, Width: st.size.Width(), st: st, rows: rows, cols: cols}
}

// addLegend adds a legend entry (once per label).
func (f *Figure) addLegend(label string, thumbs ...plot.Thumbnailer) {
	for _, e := range f.legend {
		if e.label == label {
			return
		}
	}
	f.legend = append(f.legend, legendEntry{label, thumbs})
}

// Legend returns the labels of the legend entries.
func (f *Figure) Legend() []string {
	out := make([]string, len(f.legend))
	for i, e := range f.legend {
		out[i] = e.label
	}
	return out
}

// legendGeometry lays the entries out in columns, filled top to bottom, in
// as few rows as fit the width (each column as wide as its widest entry):
// the columns' x offsets, the row height and the number of columns and rows.
func (f *Figure) legendGeometry() (colX []vg.Length, rowH vg.Length, ncol, nrow int) {
	n := len(f.legend)
	if n == 0 {
		return nil, 0, 0, 0
	}
	ts := f.st.textStyle(f.st.label)
	thumbW := 2.2 * f.st.label
	gap := 1.5 * f.st.label
	widths := make([]vg.Length, n)
	for i, e := range f.legend {
		widths[i] = thumbW + 0.5*f.st.label + ts.Width(e.label)
	}
	avail := f.Width - 2*f.st.pad
	var cols []vg.Length
	for nrow = 1; nrow <= n; nrow++ {
		cols = columnWidths(widths, nrow)
		if total(cols, gap) <= avail {
			break
		}
	}
	nrow = min(nrow, n)
	var x vg.Length
	for _, w := range cols {
		colX = append(colX, x)
		x += w + gap
	}
	rowH = ts.Height("Ag_{0}^{2}") + 0.25*f.st.label
	return colX, rowH, len(cols), nrow
}

// columnWidths are the widths of the columns of nrow rows, filled top to
// bottom.
func columnWidths(widths []vg.Length, nrow int) []vg.Length {
	cols := make([]vg.Length, (len(widths)+nrow-1)/nrow)
	for i, w := range widths {
		cols[i/nrow] = max(cols[i/nrow], w)
	}
	return cols
}

func (f *Figure) noteHeight() vg.Length {
	if f.note == "" {
		return 0
	}
	return f.st.textStyle(f.st.label).Height(f.note) + f.st.pad
}

func (f *Figure) legendHeight() vg.Length {
	_, rowH, _, nrow := f.legendGeometry()
	if nrow == 0 {
		return 0
	}
	return vg.Length(nrow)*rowH + f.st.pad
}

func (f *Figure) xlabelHeight() vg.Length {
	if f.xlabel == "" {
		return 0
	}
	return f.st.textStyle(f.st.label).Height(f.xlabel) + f.st.pad
}

// finish sets the figure's height from its parts.
func (f *Figure) finish() *Figure {
	f.Height = f.noteHeight() + f.legendHeight() + vg.Length(f.rows)*f.st.panelH + f.xlabelHeight() + 2*f.st.pad
	for _, pn := range f.panels {
		if pn.shareX {
			pn.p.X.Tick.Marker = unlabelled{pn.p.X.Tick.Marker}
		}
	}
	return f
}

// unlabelled keeps a ticker's ticks without their labels.
type unlabelled struct{ plot.Ticker }

func (u unlabelled) Ticks(lo, hi float64) []plot.Tick {
	ts := u.Ticker.Ticks(lo, hi)
	for i := range ts {
		ts[i].Label = ""
	}
	return ts
}

// Draw draws the figure on c (any size; the layout fills it).
func (f *Figure) Draw(c draw.Canvas) { f.draw(c) }

func (f *Figure) draw(c draw.Canvas) drawn {
	var out drawn
	c.SetColor(background)
	c.Fill(c.Rectangle.Path())
	st := f.st
	top := c.Max.Y - st.pad
	left, right := c.Min.X+st.pad, c.Max.X-st.pad

	if f.note != "" {
		ts := st.textStyle(st.label)
		ts.YAlign = draw.YTop
		c.FillText(ts, vg.Point{X: left, Y: top}, f.note)
		top -= f.noteHeight()
	}
	if colX, rowH, ncol, nrow := f.legendGeometry(); ncol > 0 {
		ts := st.textStyle(st.label)
		ts.YAlign = draw.YCenter
		thumbW := 2.2 * st.label
		for i, e := range f.legend {
			x := left + colX[i/nrow]
			yTop := top - vg.Length(i%nrow)*rowH
			icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: yTop - rowH + 0.15*rowH}, Max: vg.Point{X: x + thumbW, Y: yTop - 0.15*rowH}}}
			for _, th := range e.thumbs {
				th.Thumbnail(&icon)
			}
			tx := x + thumbW + 0.5*st.label
			c.FillText(ts, vg.Point{X: tx, Y: yTop - rowH/2}, e.label)
			out.legend = append(out.legend, vg.Rectangle{Min: vg.Point{X: x, Y: yTop - rowH}, Max: vg.Point{X: tx + ts.Width(e.label), Y: yTop}})
		}
		top -= f.legendHeight()
	}
	bottom := c.Min.Y + st.pad + f.xlabelHeight()
	barW, barH := vg.Length(0), 0.8*(top-c.Min.Y-st.pad-f.xlabelHeight()) // the data area is a little less than the panel
	if f.bar != nil {
		barW = f.bar.width(st, barH)
	}
	grid := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: left, Y: bottom}, Max: vg.Point{X: right - barW, Y: top}}}
	plots := make([][]*plot.Plot, f.rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, f.cols)
		for k := range plots[r] {
			if i := r*f.cols + k; i < len(f.panels) {
				plots[r][k] = f.panels[i].p
			}
		}
	}
	tiles := draw.Tiles{Rows: f.rows, Cols: f.cols, PadX: 1.5 * st.label, PadY: 0.6 * st.label, PadRight: 0.5 * st.label}
	canvases := plot.Align(plots, tiles, grid)
	for i, pn := range f.panels {
		cv := canvases[i/f.cols][i%f.cols]
		out.panels = append(out.panels, pn.drawOn(cv))
	}
	if f.xlabel != "" && len(out.panels) > 0 {
		lo, hi := vg.Length(math.Inf(1)), vg.Length(math.Inf(-1))
		for i, dp := range out.panels {
			if i/f.cols == f.rows-1 || i+f.cols >= len(f.panels) {
				lo, hi = min(lo, dp.data.Min.X), max(hi, dp.data.Max.X)
			}
		}
		ts := st.textStyle(st.label)
		ts.XAlign, ts.YAlign = draw.XCenter, draw.YBottom
		pt := vg.Point{X: (lo + hi) / 2, Y: c.Min.Y + st.pad}
		c.FillText(ts, pt, f.xlabel)
		r := ts.Rectangle(f.xlabel)
		out.xlabel = vg.Rectangle{Min: pt.Add(r.Min), Max: pt.Add(r.Max)}
	}
	if f.bar != nil && len(out.panels) > 0 {
		out.bar = f.bar.draw(c, st, right-barW, out.panels[0].data.Rectangle, barH)
	}
	return out
}

// drawOn draws the panel and its insets in cv and says where its marks went.
func (pn *panel) drawOn(cv draw.Canvas) drawnPanel {
	pn.p.Draw(cv)
	dp := pn.locate(cv)
	for _, in := range pn.insets {
		d := dp.data
		w, h := d.Max.X-d.Min.X, d.Max.Y-d.Min.Y
		area := draw.Canvas{Canvas: cv.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: d.Min.X + in.at.Min.X*w, Y: d.Min.Y + in.at.Min.Y*h},
			Max: vg.Point{X: d.Min.X + in.at.Max.X*w, Y: d.Min.Y + in.at.Max.Y*h}}}
		in.p.Draw(area)
		idp := in.locate(area)
		frame := idp.data.Rectangle
		area.StrokeLines(draw.LineStyle{Color: referenceColor, Width: vg.Points(0.5)},
			[]vg.Point{frame.Min, {X: frame.Max.X, Y: frame.Min.Y}, frame.Max, {X: frame.Min.X, Y: frame.Max.Y}, frame.Min})
		dp.insets = append(dp.insets, idp)
	}
	return dp
}

// locate returns the panel's data area in cv and its marks' positions.
func (pn *panel) locate(cv draw.Canvas) drawnPanel {
	data := pn.p.DataCanvas(cv)
	tx, ty := pn.p.Transforms(&data)
	dp := drawnPanel{data: data, area: cv.Rectangle}
	for _, xys := range pn.marks {
		for _, xy := range xys {
			if !inRange(pn.p.X, xy.X) || !inRange(pn.p.Y, xy.Y) {
				continue
			}
			dp.points = append(dp.points, vg.Point{X: tx(xy.X), Y: ty(xy.Y)})
		}
	}
	return dp
}

func inRange(a plot.Axis, v float64) bool {
	return !math.IsNaN(v) && v >= a.Min && v <= a.Max && (a.Scale == nil || !isLog(a) || v > 0)
}

func isLog(a plot.Axis) bool {
	_, ok := a.Scale.(plot.LogScale)
	return ok
}

// MaxDPI bounds the resolution of a PNG (a 7 in figure at 1200 dpi is
// 8400 pixels wide).
const MaxDPI = 1200

// canvasFor returns a canvas of the figure's size for a format.
func (f *Figure) canvasFor(format Format, dpi int, embedFonts bool) (vg.CanvasWriterTo, error) {
	switch {
	case dpi == 0:
		dpi = DefaultDPI
	case dpi < 0 || dpi > MaxDPI:
		return nil, fmt.Errorf("dpi %d: want 1 … %d (0 for %d)", dpi, MaxDPI, DefaultDPI)
	}
	switch format {
	case PNG:
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(background))}, nil
	case SVG:
		return vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height), vgsvg.EmbedFonts(embedFonts)), nil
	case PDF:
		c := vgpdf.New(f.Width, f.Height)
		c.EmbedFonts(true)
		return c, nil
	}
	return nil, fmt.Errorf("format %q: want png, svg or pdf", format)
}

// Render draws the figure in one format into w; dpi is the resolution of a
// PNG (0: DefaultDPI). SVG and PDF embed their fonts, so they look the same
// everywhere.
func (f *Figure) Render(w io.Writer, format Format, dpi int) error {
	return f.render(w, format, dpi, true)
}

// RenderSVG draws the figure as SVG into w, with or without its fonts
// embedded: without, the SVG is about a tenth of the size (for a web page)
// and names the font (Liberation Serif, metric-compatible with Times New
// Roman) for the viewer to supply.
func (f *Figure) RenderSVG(w io.Writer, embedFonts bool) error {
	return f.render(w, SVG, 0, embedFonts)
}

func (f *Figure) render(w io.Writer, format Format, dpi int, embedFonts bool) error {
	cv, err := f.canvasFor(format, dpi, embedFonts)
	if err != nil {
		return fmt.Errorf("figure %s: %w", f.Name, err)
	}
	f.draw(draw.New(cv))
	if _, err := cv.WriteTo(w); err != nil {
		return fmt.Errorf("figure %s: write %s: %w", f.Name, format, err)
	}
	return nil
}

// Save writes the figure into dir in every format: Name.png, .svg, .pdf.
func (f *Figure) Save(dir string, dpi int) error {
	for _, format := range Formats {
		path := filepath.Join(dir, f.Name+"."+string(format))
		file, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("figure %s: %w", f.Name, err)
		}
		if err := f.Render(file, format, dpi); err != nil {
			file.Close()
			return err
		}
		if err := file.Close(); err != nil {
			return fmt.Errorf("figure %s: %w", f.Name, err)
		}
	}
	return nil
}

// total is the width of columns with gaps between them.
func total(cols []vg.Length, gap vg.Length) vg.Length {
	var t vg.Length
	for _, c := range cols {
		t += c
	}
	return t + gap*vg.Length(len(cols)-1)
}
