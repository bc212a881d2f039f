package report

import (
	"math"
	"strings"
	"unicode"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgpdf"
)

// notation is the text handler of every figure: the paper's notation in a
// small subset of TeX that never fails on other text.
//
//   - Text is upright; $…$ is maths: letters italic, digits and signs upright.
//   - x_{…} and x^{…} typeset a sub- or superscript at 70% of the size (in
//     maths also x_c and x^c for one character); a subscript directly
//     followed by a superscript (or the reverse) is stacked, as in x_0^2.
//   - Everything else is literal: an "_" or "^" not followed by "{" outside
//     maths, a "$" without a closing one, an unmatched brace (so parameter
//     names like init_scale print as they are).
//
// gonum's text.Latex cannot do this: its parser has no sub- or superscripts
// and panics on an "_".
type notation struct {
	fonts *font.Cache
}

var _ text.Handler = notation{}

const (
	scriptScale = 0.7  // size of a sub- or superscript
	subDrop     = 0.22 // baseline of a subscript below the text's, in sizes
	supRise     = 0.38 // baseline of a superscript above the text's, in sizes
)

// textRun is a piece of text in one style.
type textRun struct {
	s      string
	italic bool
	shift  int  // 0 text, −1 subscript, +1 superscript
	stack  bool // starts where the previous script started (x_0^2)
}

// parseNotation splits one line into spans.
func parseNotation(line string) []textRun {
	rs := []rune(line)
	var out []textRun
	add := func(r rune, italic bool, shift int, stack bool) {
		if n := len(out); n > 0 && !stack && out[n-1].italic == italic && out[n-1].shift == shift {
			out[n-1].s += string(r)
			return
		}
		out = append(out, textRun{s: string(r), italic: italic, shift: shift, stack: stack})
	}
	math := false
	closes := func(from int) bool { return strings.ContainsRune(string(rs[from:]), '$') }
	lastScript := -1 // index in rs just past the previous script, −1 if none
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '$' && (math || closes(i+1)) {
			math = !math
			continue
		}
		if (r == '_' || r == '^') && i+1 < len(rs) {
			var arg []rune
			end := -1
			if rs[i+1] == '{' {
				if j := strings.IndexRune(string(rs[i+2:]), '}'); j >= 0 {
					j = len([]rune(string(rs[i+2:])[:j]))
					arg, end = rs[i+2:i+2+j], i+2+j
				}
			} else if math && rs[i+1] != '$' {
				arg, end = rs[i+1:i+2], i+1
			}
			if end >= 0 && len(arg) > 0 {
				shift := -1
				if r == '^' {
					shift = 1
				}
				stack := lastScript == i
				m := math
				first := true
				for _, a := range arg {
					if a == '$' {
						m = !m
						continue
					}
					add(a, m && unicode.IsLetter(a), shift, stack && first)
					first = false
				}
				lastScript = end + 1
				i = end
				continue
			}
		}
		add(r, math && unicode.IsLetter(r), 0, false)
	}
	return out
}

// face is the font of a run.
func (h notation) face(base font.Font, sp textRun) font.Face {
	f := base
	if sp.italic {
		f.Style = xfont.StyleItalic
	}
	size := base.Size
	if sp.shift != 0 {
		size *= scriptScale
	}
	f.Size = size
	return h.fonts.Lookup(f, size)
}

// pdfFace works around vgpdf, which registers every font under the style ""
// and then asks for an italic one under "I" ("undefined font"): the italic
// face goes to a PDF as a font of its own name, in the normal style.
func pdfFace(f font.Face) font.Face {
	if f.Font.Style == xfont.StyleItalic {
		f.Font.Variant += "Italic"
		f.Font.Style = xfont.StyleNormal
	}
	return f
}

// layout returns each span's x offset and baseline offset and the line's
// width, height above and depth below the baseline.
func (h notation) layout(line string, base font.Font) (spans []textRun, xs, ys []vg.Length, w, ht, dp vg.Length) {
	spans = parseNotation(line)
	bf := h.fonts.Lookup(base, base.Size)
	e := bf.Extents()
	ht, dp = e.Ascent, e.Descent
	var x, start, end vg.Length
	for i, sp := range spans {
		if sp.stack {
			x = start
		} else if i == 0 || sp.shift == 0 || spans[i-1].shift == 0 {
			start = x
		}
		face := h.face(base, sp)
		y := vg.Length(0)
		se := face.Extents()
		switch sp.shift {
		case -1:
			y = -subDrop * base.Size
		case 1:
			y = supRise * base.Size
		}
		xs, ys = append(xs, x), append(ys, y)
		x += face.Width(sp.s)
		if sp.stack {
			x = max(x, end)
		}
		end = x
		ht = max(ht, y+se.Ascent)
		dp = max(dp, se.Descent-y)
	}
	return spans, xs, ys, x, ht, dp
}

func (h notation) Cache() *font.Cache { return h.fonts }

func (h notation) Extents(fnt font.Font) font.Extents {
	f := h.fonts.Lookup(fnt, fnt.Size)
	return f.Extents()
}

func (h notation) Lines(txt string) []string {
	return strings.Split(strings.TrimRight(txt, "\n"), "\n")
}

func (h notation) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	_, _, _, w, ht, dp := h.layout(txt, fnt)
	return w, ht, dp
}

// Draw places the text as text.Plain does (the same rotation and alignment),
// span by span.
func (h notation) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if txt == "" {
		return
	}
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		defer c.Pop()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin

	pdf := isPDF(c)
	lines := h.Lines(txt)
	bf := h.fonts.Lookup(sty.Font, sty.Font.Size)
	ascent := bf.Extents().Ascent
	pt.Y += sty.Height(txt)*vg.Length(sty.YAlign) - ascent
	for i, line := range lines {
		spans, xs, ys, w, _, _ := h.layout(line, sty.Font)
		origin := pt.Add(vg.Point{X: vg.Length(sty.XAlign) * w, Y: vg.Length(len(lines)-i) * sty.Font.Size})
		for k, sp := range spans {
			face := h.face(sty.Font, sp)
			if pdf {
				face = pdfFace(face)
			}
			c.FillString(face, origin.Add(vg.Point{X: xs[k], Y: ys[k]}), sp.s)
		}
	}
}

// isPDF reports whether c draws into a vgpdf canvas (draw.Canvas passes
// itself to text handlers).
func isPDF(c vg.Canvas) bool {
	for {
		switch v := c.(type) {
		case *vgpdf.Canvas:
			return true
		case *draw.Canvas:
			c = v.Canvas
		case draw.Canvas:
			c = v.Canvas
		default:
			return false
		}
	}
}
