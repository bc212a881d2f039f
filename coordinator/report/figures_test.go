package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// syntheticData is the synthetic sweep (two widths) as figure data.
func syntheticData(t *testing.T) *Data {
	t.Helper()
	return figureData(t, synthetic())
}

// figureData is trials, analysed with syntheticOptions, as figure data.
func figureData(t *testing.T, trials []boundary.Trial) *Data {
	t.Helper()
	a, err := boundary.Analyze(trials, syntheticOptions)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewData(a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// allFigures builds every figure of the synthetic sweep at size.
func allFigures(t *testing.T, d *Data, size Size) []*Figure {
	t.Helper()
	want, err := selectFigures(d.Model, nil)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := d.figures(want, size, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 6 { // phase, overview, 2 groups, trajectory, paper1
		t.Fatalf("%d figures, want 6", len(figs))
	}
	return figs
}

// Every figure is written in the three formats, each of which decodes: the
// PNG as an image of the figure's printed size at the DPI, the SVG as XML
// with an <svg> root, the PDF as a PDF whose cross-reference table points
// at its objects.
func TestFigureFormatsDecode(t *testing.T) {
	t.Parallel()
	for _, size := range []Size{SingleColumn, DoubleColumn} {
		t.Run(string(size), func(t *testing.T) {
			t.Parallel()
			const dpi = 60
			dir, _, _ := writeSynthetic(t, Options{Size: size, DPI: dpi})
			figs := allFigures(t, syntheticData(t), size)
			for _, f := range figs {
				if f.Width != size.Width() {
					t.Errorf("%s: width %v, want %v", f.Name, f.Width, size.Width())
				}
				for _, format := range Formats {
					path := filepath.Join(dir, f.Name+"."+string(format))
					data, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					switch format {
					case PNG:
						img, err := png.Decode(bytes.NewReader(data))
						if err != nil {
							t.Fatalf("%s: %v", path, err)
						}
						w, h := int(math.Ceil(inches(f.Width)*dpi)), int(math.Ceil(inches(f.Height)*dpi))
						if b := img.Bounds(); abs(b.Dx()-w) > 1 || abs(b.Dy()-h) > 1 {
							t.Errorf("%s: %dx%d px, want %dx%d (%.2f × %.2f in at %d dpi)", path, b.Dx(), b.Dy(), w, h, inches(f.Width), inches(f.Height), dpi)
						}
					case SVG:
						if err := checkSVG(data); err != nil {
							t.Errorf("%s: %v", path, err)
						}
					case PDF:
						if err := checkPDF(data); err != nil {
							t.Errorf("%s: %v", path, err)
						}
					}
				}
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// checkSVG parses the whole document as XML and wants an <svg> root.
func checkSVG(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return fmt.Errorf("root element <%s>, want <svg>", root)
	}
	return nil
}

var (
	pdfStartXref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	pdfXrefHead  = regexp.MustCompile(`^xref\s+0\s+(\d+)\s+`)
	pdfXrefEntry = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])\s{1,2}`)
	pdfSize      = regexp.MustCompile(`trailer\s*<<[^>]*/Size\s+(\d+)`)
)

// checkPDF checks the header, the end-of-file marker, and that startxref
// points at a cross-reference table whose every in-use entry points at
// "N 0 obj" for its own N, with as many entries as the trailer's /Size.
func checkPDF(data []byte) error {
	if !bytes.HasPrefix(data, []byte("%PDF-1.")) {
		return fmt.Errorf("no %%PDF-1.x header: %q", data[:min(len(data), 8)])
	}
	m := pdfStartXref.FindSubmatch(data)
	if m == nil {
		return errors.New("no startxref … %%EOF at the end")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off <= 0 || off >= len(data) {
		return fmt.Errorf("startxref %d outside the file (%d bytes)", off, len(data))
	}
	rest := data[off:]
	h := pdfXrefHead.FindSubmatch(rest)
	if h == nil {
		return fmt.Errorf("no xref table at startxref %d: %q", off, rest[:min(len(rest), 20)])
	}
	n, _ := strconv.Atoi(string(h[1]))
	rest = rest[len(h[0]):]
	inUse := 0
	for i := range n {
		e := pdfXrefEntry.FindSubmatch(rest)
		if e == nil {
			return fmt.Errorf("xref entry %d malformed: %q", i, rest[:min(len(rest), 20)])
		}
		rest = rest[len(e[0]):]
		if string(e[3]) != "n" {
			continue
		}
		inUse++
		at, _ := strconv.Atoi(string(e[1]))
		want := fmt.Sprintf("%d 0 obj", i)
		if at <= 0 || at+len(want) > len(data) || string(data[at:at+len(want)]) != want {
			return fmt.Errorf("xref entry %d points at offset %d, which does not hold %q", i, at, want)
		}
	}
	if s := pdfSize.FindSubmatch(data); s == nil || string(s[1]) != strconv.Itoa(n) {
		return fmt.Errorf("trailer /Size %q, xref has %d entries", s, n)
	}
	if inUse < 5 {
		return fmt.Errorf("only %d objects", inUse)
	}
	return nil
}

// near reports whether two colours differ by at most tol in every channel.
func near(a, b color.Color, tol int) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) int { return abs(int(x>>8) - int(y>>8)) }
	return d(ar, br) <= tol && d(ag, bg) <= tol && d(ab, bb) <= tol
}

// contrast is the largest channel difference between two colours.
func contrast(a, b color.Color) int {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) int { return abs(int(x>>8) - int(y>>8)) }
	return max(d(ar, br), d(ag, bg), d(ab, bb))
}

// minContrast is the least a cell colour must differ from the background in
// some channel.
const minContrast = 60

// The phase diagram's colour map never comes near the background, over its
// whole range (the quick start's largest-drop cell was (255, 255, 255) on a
// white background with moreland's black-body map).
func TestColorMapAvoidsBackground(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cm   interface {
			At(float64) (color.Color, error)
			SetMin(float64)
			SetMax(float64)
		}
		ok bool
	}{
		{"viridis (the report's)", &viridis{}, true},
		{"moreland extended black body (the old one)", moreland.ExtendedBlackBody(), false},
	} {
		c.cm.SetMin(-3)
		c.cm.SetMax(0)
		worst := 255
		for i := 0; i <= 3000; i++ {
			col, err := c.cm.At(-3 + 3*float64(i)/3000)
			if err != nil {
				t.Fatal(err)
			}
			worst = min(worst, contrast(col, background))
		}
		if ok := worst >= minContrast; ok != c.ok {
			t.Errorf("%s: least contrast with the background %d (want ≥ %d: %v)", c.name, worst, minContrast, c.ok)
		}
	}
}

// Every cell of the rendered phase diagram shows its colour, and none the
// background: each cell's pixel is read from a PNG, at a point of the cell
// away from the marks drawn over it.
func TestPhaseCellsNeverBackground(t *testing.T) {
	t.Parallel()
	d := syntheticData(t)
	for _, size := range []Size{SingleColumn, DoubleColumn} {
		f, err := PhaseFigure(d, size)
		if err != nil {
			t.Fatal(err)
		}
		const dpi = 150
		img := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(background))
		dc := draw.New(img)
		lay := f.draw(dc)
		pn := f.panels[0]
		data := lay.panels[0].data
		tx, ty := pn.p.Transforms(&data)
		scale := newDropScale(d.Groups)
		cs := phaseCells(d.Groups, scale, scale.colorMap())
		// vertical marks on the rows: theory and 2/S₀
		var verticals []vg.Length
		for _, g := range d.Groups {
			if g.Theory != nil {
				verticals = append(verticals, tx(*g.Theory))
			}
			verticals = append(verticals, tx(g.Stability), tx(g.EtaStar), tx(g.Onset))
		}
		pix := func(pt vg.Point) color.Color {
			x := int(pt.X.Points() * dpi / 72)
			y := int(math.Round(float64(img.Image().Bounds().Dy()) - pt.Y.Points()*dpi/72))
			return img.Image().At(x, y)
		}
		checked, largest := 0, false
		maxDrop := math.Inf(-1)
		for _, k := range cs {
			if contrast(k.c, background) < minContrast {
				t.Errorf("%s: cell [%g, %g] colour %v is near the background", size, k.x0, k.x1, k.c)
			}
			maxDrop = math.Max(maxDrop, k.drop)
		}
		for _, k := range cs {
			y := ty(k.y0 + 0.1) // the cell's lower edge: below the onset mark
			var ok bool
			var pt vg.Point
			for _, frac := range []float64{0.5, 0.25, 0.75} {
				x := tx(math.Exp(math.Log(k.x0) + frac*(math.Log(k.x1)-math.Log(k.x0))))
				free := x > data.Min.X+1 && x < data.Max.X-1
				for _, v := range verticals {
					if math.Abs(float64(x-v)) < 4 {
						free = false
					}
				}
				if free {
					pt, ok = vg.Point{X: x, Y: y}, true
					break
				}
			}
			if !ok {
				continue
			}
			checked++
			got := pix(pt)
			if contrast(got, background) < minContrast {
				t.Errorf("%s: cell [%g, %g]: pixel %v at %v is (near) the background", size, k.x0, k.x1, got, pt)
			}
			if !near(got, k.c, 3) {
				t.Errorf("%s: cell [%g, %g]: pixel %v, want its colour %v", size, k.x0, k.x1, got, k.c)
			}
			if k.drop == maxDrop {
				largest = true
			}
		}
		if checked < len(cs)*3/4 || !largest {
			t.Errorf("%s: checked %d of %d cells (the last: %v)", size, checked, len(cs), largest)
		}
	}
}

// No legend entry covers a plotted point or lies over a data area, and no
// inset covers a point of its panel: checked on the canvas positions of
// every point (the plots' data-to-canvas transforms), for every figure at
// both sizes.
func TestLegendsAndInsetsAvoidData(t *testing.T) {
	t.Parallel()
	d := syntheticData(t)
	for _, size := range []Size{SingleColumn, DoubleColumn} {
		for _, f := range allFigures(t, d, size) {
			img := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(72))
			lay := f.draw(draw.New(img))
			if len(lay.legend) != len(f.legend) {
				t.Errorf("%s %s: %d legend boxes for %d entries", size, f.Name, len(lay.legend), len(f.legend))
			}
			npts := 0
			margin := styleFor(size).marker * 1.6
			for pi, pn := range lay.panels {
				npts += len(pn.points)
				for li, r := range lay.legend {
					if overlaps(r, pn.data.Rectangle) {
						t.Errorf("%s %s: legend entry %q %v overlaps the data area %v of panel %d", size, f.Name, f.legend[li].label, r, pn.data.Rectangle, pi)
					}
					for _, pt := range pn.points {
						if contains(inflate(r, margin), pt) {
							t.Errorf("%s %s: legend entry %q covers the point at %v", size, f.Name, f.legend[li].label, pt)
						}
					}
				}
				for _, in := range pn.insets {
					for _, pt := range pn.points {
						if contains(inflate(in.area, margin), pt) {
							t.Errorf("%s %s: the inset %v covers a point of panel %d at %v", size, f.Name, in.area, pi, pt)
						}
					}
				}
			}
			if npts == 0 {
				t.Errorf("%s %s: no points located", size, f.Name)
			}
		}
	}
}

func inches(l vg.Length) float64 { return float64(l / vg.Inch) }

func contains(r vg.Rectangle, p vg.Point) bool {
	return p.X >= r.Min.X && p.X <= r.Max.X && p.Y >= r.Min.Y && p.Y <= r.Max.Y
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

func inflate(r vg.Rectangle, m vg.Length) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: r.Min.X - m, Y: r.Min.Y - m}, Max: vg.Point{X: r.Max.X + m, Y: r.Max.Y + m}}
}

// Every text of every figure is in the notation: no raw "_" or "^" left
// (as in "b_T"), group labels "symbol = value" (not "x0 1"), one x label
// per figure below the panels, none on the panels, and stacked panels show
// x tick labels on the bottom one only.
func TestFigureLabels(t *testing.T) {
	t.Parallel()
	d := syntheticData(t)
	for _, size := range []Size{SingleColumn, DoubleColumn} {
		for _, f := range allFigures(t, d, size) {
			texts := append([]string{f.xlabel, f.note}, f.Legend()...)
			if f.bar != nil {
				texts = append(texts, f.bar.label)
			}
			for _, pn := range f.panels {
				texts = append(texts, pn.p.Y.Label.Text)
				if pn.p.X.Label.Text != "" {
					t.Errorf("%s %s: a panel has its own x label %q", size, f.Name, pn.p.X.Label.Text)
				}
			}
			for _, s := range texts {
				for _, r := range parseNotation(s) {
					if strings.ContainsAny(r.s, "_^$") {
						t.Errorf("%s %s: text %q shows raw markup %q", size, f.Name, s, r.s)
					}
				}
			}
			if f.xlabel == "" {
				t.Errorf("%s %s: no x label", size, f.Name)
			}
			if f.rows > 1 {
				for i, pn := range f.panels {
					labelled := false
					for _, tk := range pn.p.X.Tick.Marker.Ticks(pn.p.X.Min, pn.p.X.Max) {
						labelled = labelled || tk.Label != ""
					}
					if bottom := i/f.cols == f.rows-1; labelled != bottom {
						t.Errorf("%s %s: panel %d (bottom %v) has x tick labels: %v", size, f.Name, i, bottom, labelled)
					}
				}
			}
		}
	}
	for gi, want := range []string{"$d$ = 100", "$d$ = 200"} {
		if got := d.groupLabel(gi); got != want {
			t.Errorf("group %d label %q, want %q", gi, got, want)
		}
	}
}

// Figure 1 as the paper lays it out: two panels (final bias, test accuracy
// in %), a linear η axis 0 … 0.012, each with an inset zoomed to
// 0 … 0.0015 inside its data area, and the dashed 8π/d² line of every
// width in both panels and both insets.
func TestPaper1Layout(t *testing.T) {
	t.Parallel()
	d := syntheticData(t)
	for _, size := range []Size{SingleColumn, DoubleColumn} {
		f, err := Paper1Figure(d, size)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.panels) != 2 || f.rows*f.cols != 2 {
			t.Fatalf("%s: %d panels in %d×%d, want 2", size, len(f.panels), f.rows, f.cols)
		}
		labels := []string{biasQ.label, accQ.label}
		lay := f.draw(draw.New(vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(72))))
		for i, pn := range f.panels {
			p := pn.p
			if p.Y.Label.Text != labels[i] {
				t.Errorf("%s panel %d: y label %q, want %q", size, i, p.Y.Label.Text, labels[i])
			}
			checkLinear(t, fmt.Sprintf("%s panel %d", size, i), p, 0, Paper1EtaMax)
			if len(pn.insets) != 1 {
				t.Fatalf("%s panel %d: %d insets, want 1", size, i, len(pn.insets))
			}
			in := pn.insets[0]
			checkLinear(t, fmt.Sprintf("%s panel %d inset", size, i), in.p, 0, Paper1InsetMax)
			for _, q := range []*panel{pn, &in.panel} {
				for _, g := range d.Groups {
					want := 8 * math.Pi / (g.Key["width"] * g.Key["width"])
					found := false
					for _, x := range q.theory {
						found = found || math.Abs(x/want-1) < 1e-12
					}
					if want < q.p.X.Max && !found {
						t.Errorf("%s panel %d: no dashed line at 8π/d² = %g in [0, %g] (have %v)", size, i, want, q.p.X.Max, q.theory)
					}
				}
			}
			dp := lay.panels[i]
			if a, b := dp.insets[0].area, dp.data.Rectangle; a.Min.X < b.Min.X || a.Max.X > b.Max.X || a.Min.Y < b.Min.Y || a.Max.Y > b.Max.Y {
				t.Errorf("%s panel %d: inset %v is not inside the data area %v", size, i, a, b)
			}
			if len(dp.points) == 0 || len(dp.insets[0].points) == 0 {
				t.Errorf("%s panel %d: %d points, %d in the inset", size, i, len(dp.points), len(dp.insets[0].points))
			}
		}
	}
}

func checkLinear(t *testing.T, name string, p *plot.Plot, lo, hi float64) {
	t.Helper()
	if _, ok := p.X.Scale.(plot.LinearScale); !ok {
		t.Errorf("%s: x scale %T, want linear", name, p.X.Scale)
	}
	if p.X.Min != lo || p.X.Max != hi {
		t.Errorf("%s: x range [%g, %g], want [%g, %g]", name, p.X.Min, p.X.Max, lo, hi)
	}
}

// The max η·S/2 panel plots the maximum after θ₀: max_eos_ratio_after_init,
// or for a result stored before that field existed, the largest η·S/2 of
// its trajectory after step 0 — never η·S₀/2 of an unstable start.
func TestMaxEOSAfterInit(t *testing.T) {
	t.Parallel()
	traj := []engine.Point{{Step: 0, Sharpness: 1600}, {Step: 4, Sharpness: 40}, {Step: 8, Sharpness: 150}, {Step: 12}}
	cases := []struct {
		name string
		r    engine.Result
		want float64
	}{
		{"field set", engine.Result{MaxEOSRatio: 9.6, MaxEOSRatioAfterInit: 0.92, Trajectory: traj}, 0.92},
		{"old result: from the trajectory", engine.Result{MaxEOSRatio: 9.6, Trajectory: traj}, 0.012 * 150 / 2},
		{"old result, no sample after step 0", engine.Result{MaxEOSRatio: 9.6, Trajectory: traj[:1]}, math.NaN()},
	}
	for _, c := range cases {
		got := eosQ.value(boundary.Trial{Params: map[string]float64{"eta": 0.012}, Result: c.r})
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseNotation(t *testing.T) {
	t.Parallel()
	type r = textRun
	cases := []struct {
		in   string
		want []r
	}{
		{"final bias $b_T$", []r{{s: "final bias "}, {s: "b", italic: true}, {s: "T", italic: true, shift: -1}}},
		{"init_scale = 0.01", []r{{s: "init_scale = 0.01"}}},
		{"$x_0^2$", []r{{s: "x", italic: true}, {s: "0", shift: -1}, {s: "2", shift: 1, stack: true}}},
		{"10^{−4}", []r{{s: "10"}, {s: "−4", shift: 1}}},
		{"max$_{t ≥ 1}$ $η·S(θ_t)/2$", []r{{s: "max"}, {s: "t", italic: true, shift: -1}, {s: " ≥ 1", shift: -1},
			{s: " "}, {s: "η", italic: true}, {s: "·"}, {s: "S", italic: true}, {s: "("}, {s: "θ", italic: true},
			{s: "t", italic: true, shift: -1}, {s: ")/2"}}},
		{"costs $5", []r{{s: "costs $5"}}},
		{"a_{b", []r{{s: "a_{b"}}},
		{"2×10^{3}$", []r{{s: "2×10"}, {s: "3", shift: 1}, {s: "$"}}},
	}
	for _, c := range cases {
		got := parseNotation(c.in)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("parseNotation(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
	// A box of text with a subscript is deeper than without; a superscript
	// taller; widths add up.
	h := textHandler
	fnt := styleFor(DoubleColumn).textStyle(9).Font
	w0, h0, d0 := h.Box("b", fnt)
	w1, _, d1 := h.Box("$b_T$", fnt)
	_, h2, _ := h.Box("$b^2$", fnt)
	if !(w1 > w0 && d1 > d0 && h2 > h0) {
		t.Errorf("boxes: b %v %v %v, b_T w %v d %v, b^2 h %v", w0, h0, d0, w1, d1, h2)
	}
}

// A figure renders to SVG in memory (what a web page needs) as it does to
// a file.
func TestRenderInMemory(t *testing.T) {
	t.Parallel()
	f, err := OverviewFigure(syntheticData(t), DoubleColumn)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Render(&buf, SVG, 0); err != nil {
		t.Fatal(err)
	}
	if err := checkSVG(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	embedded := buf.Len()
	buf.Reset()
	if err := f.RenderSVG(&buf, false); err != nil {
		t.Fatal(err)
	}
	if err := checkSVG(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if buf.Len()*4 > embedded {
		t.Errorf("SVG without fonts %d bytes, with %d", buf.Len(), embedded)
	}
	t.Logf("SVG %d bytes with fonts, %d without", embedded, buf.Len())
	for _, bad := range []struct {
		format Format
		dpi    int
	}{{"gif", 0}, {PNG, -1}, {PNG, MaxDPI + 1}} {
		if err := f.Render(&buf, bad.format, bad.dpi); err == nil {
			t.Errorf("format %q at %d dpi accepted", bad.format, bad.dpi)
		}
	}
}

// Every mark drawn has a legend entry: the theory and stability lines, the
// estimates with their intervals, the CI band, the edge-of-stability line.
func TestLegendEntries(t *testing.T) {
	t.Parallel()
	d := syntheticData(t)
	want := map[string][]string{
		"phase":           {"theory $8π/d^2$", "stability $2/S_0$", "$η^*$ (logistic fit), 95% CI", "onset (hinge fit), 95% CI"},
		"overview":        {"$d$ = 100", "$d$ = 200", "theory $8π/d^2$ (in the group's colour)", "edge of stability, $η·S/2$ = 1"},
		"group-width-200": {"trial (one seed)", "mean over seeds ± 1 sd", "95% CI of $η^*$", "$η^*$ = ", "onset = ", "stability $2/S_0$ = ", "theory $8π/d^2$ = 6.28×10^{−4}", "edge of stability"},
		"trajectory":      {"stability limit $2/η$ = "},
		"paper1":          {"$d$ = 100", "$d$ = 200", "theory $8π/d^2$ (in the group's colour)"},
	}
	for _, f := range allFigures(t, d, DoubleColumn) {
		entries := strings.Join(f.Legend(), "\n")
		for _, w := range want[f.Name] {
			if !strings.Contains(entries, w) {
				t.Errorf("%s: no legend entry %q in\n%s", f.Name, w, entries)
			}
		}
		if len(f.legend) > 0 {
			for _, e := range f.legend {
				if len(e.thumbs) == 0 {
					t.Errorf("%s: entry %q has no thumbnail", f.Name, e.label)
				}
			}
		}
	}
}

// Error bars are mean ± sd cut to the seeds' range: a spread quantity that
// cannot be negative (η·S/2) never gets a bar below its smallest value.
func TestMeansBar(t *testing.T) {
	t.Parallel()
	mk := func(eta float64, vs ...float64) []boundary.Trial {
		var out []boundary.Trial
		for _, v := range vs {
			out = append(out, boundary.Trial{Params: map[string]float64{"eta": eta}, Result: engine.Result{MaxEOSRatioAfterInit: v}})
		}
		return out
	}
	trials := append(mk(2, 0.01, 0.02, 6.6), mk(1, 0.9, 1.0, 1.1)...)
	ms := means(trials, eosQ)
	if len(ms) != 2 || ms[0].eta != 1 || ms[1].eta != 2 || ms[1].n != 3 {
		t.Fatalf("means %+v", ms)
	}
	if lo, hi := ms[0].bar(); math.Abs(lo-0.9) > 1e-12 || math.Abs(hi-1.1) > 1e-12 {
		t.Errorf("η = 1: bar [%g, %g], want mean ± sd = [0.9, 1.1]", lo, hi)
	}
	if lo, hi := ms[1].bar(); lo != 0.01 || hi >= 6.6 || hi <= ms[1].mean {
		t.Errorf("η = 2: bar [%g, %g] around mean %g (sd %g), want it cut at the smallest value 0.01", lo, hi, ms[1].mean, ms[1].sd)
	}
}

// η* and the onset are marked on their own group's row, inside its cells'
// band (not offset into the gap towards another group's row).
func TestPhaseMarksOnOwnRow(t *testing.T) {
	t.Parallel()
	d := syntheticData(t)
	f, err := PhaseFigure(d, DoubleColumn)
	if err != nil {
		t.Fatal(err)
	}
	for gi, g := range d.Groups {
		for _, x := range []float64{g.EtaStar, g.Onset} {
			found := false
			for _, xys := range f.panels[0].marks[1:] {
				for _, xy := range xys {
					if xy.X != x {
						continue
					}
					found = true
					if math.Abs(xy.Y-float64(gi)) > rowHalf {
						t.Errorf("group %d: mark at η = %g drawn at y = %g, outside its row [%g, %g]", gi, x, xy.Y, float64(gi)-rowHalf, float64(gi)+rowHalf)
					}
				}
			}
			if !found {
				t.Errorf("group %d: no mark at η = %g", gi, x)
			}
		}
	}
}

// A group of more trials than MaxTrialMarks is drawn by its per-η means
// alone, and its note says so: with a mark per trial, the figure of a
// million-trial group was a 362 MB SVG. A smaller group keeps its marks.
func TestGroupFigureMarksBounded(t *testing.T) {
	t.Parallel()
	mk := func(seeds int) (*Figure, int) {
		var trials []boundary.Trial
		for k := range 20 {
			eta := 1e-4 * math.Pow(200, float64(k)/19)
			for seed := range seeds {
				trials = append(trials, boundary.Trial{ID: fmt.Sprintf("%d-%d", k, seed),
					Params: map[string]float64{"eta": eta, "seed": float64(seed), "width": 100},
					Result: engine.Result{FinalBias: -0.1 - 0.6*math.Max(math.Log(eta/2.5e-3), 0) - 1e-4*float64(seed),
						InitialSharpness: 800, EOSRatio: 0.5, MaxEOSRatio: 0.5, StepsRun: 100}})
			}
		}
		f, err := GroupFigure(figureData(t, trials), 0, DoubleColumn)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.Render(&buf, SVG, 0); err != nil {
			t.Fatal(err)
		}
		return f, buf.Len()
	}
	small, smallBytes := mk(10)
	big, bigBytes := mk(MaxTrialMarks/20 + 1)
	t.Logf("SVG of 200 trials: %d bytes; of %d: %d bytes", smallBytes, 20*(MaxTrialMarks/20+1), bigBytes)
	if !strings.Contains(strings.Join(small.Legend(), "\n"), "trial (one seed)") || strings.Contains(small.note, "only up to") {
		t.Errorf("200 trials: legend %q, note %q; want a mark per trial", small.Legend(), small.note)
	}
	if strings.Contains(strings.Join(big.Legend(), "\n"), "trial (one seed)") || !strings.Contains(big.note, fmt.Sprintf("only up to %d", MaxTrialMarks)) {
		t.Errorf("%d trials: legend %q, note %q; want the means alone, and the note to say so", 20*(MaxTrialMarks/20+1), big.Legend(), big.note)
	}
	if bigBytes > smallBytes+100_000 {
		t.Errorf("SVG of the big group %d bytes, of the small one %d: want the marks left out", bigBytes, smallBytes)
	}
}
