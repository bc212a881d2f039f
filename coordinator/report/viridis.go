package report

import (
	"errors"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// viridis is a palette.ColorMap over viridisTable, interpolated linearly
// between its 256 colours. Its lightest colour, (253, 231, 37), is far from
// the white background, so no cell of the phase diagram can vanish into it.
type viridis struct {
	min, max float64
	alpha    float64 // 0 means opaque
}

var _ palette.ColorMap = (*viridis)(nil)

func (v *viridis) At(x float64) (color.Color, error) {
	if !(v.max > v.min) {
		return nil, errors.New("viridis: range not set (max must exceed min)")
	}
	if math.IsNaN(x) || x < v.min || x > v.max {
		return nil, palette.ErrOverflow
	}
	t := (x - v.min) / (v.max - v.min) * float64(len(viridisTable)-1)
	i := min(int(t), len(viridisTable)-2)
	f := t - float64(i)
	a, b := viridisTable[i], viridisTable[i+1]
	mix := func(k int) uint8 { return uint8(math.Round(float64(a[k])*(1-f) + float64(b[k])*f)) }
	alpha := v.Alpha()
	c := color.NRGBA{R: mix(0), G: mix(1), B: mix(2), A: uint8(math.Round(255 * alpha))}
	return c, nil
}

func (v *viridis) Max() float64       { return v.max }
func (v *viridis) Min() float64       { return v.min }
func (v *viridis) SetMax(x float64)   { v.max = x }
func (v *viridis) SetMin(x float64)   { v.min = x }
func (v *viridis) SetAlpha(a float64) { v.alpha = a }

// Alpha is the opacity, 1 unless set.
func (v *viridis) Alpha() float64 {
	if v.alpha == 0 {
		return 1
	}
	return v.alpha
}

func (v *viridis) Palette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		x := v.min
		if n > 1 {
			x += (v.max - v.min) * float64(i) / float64(n-1)
		}
		cs[i], _ = v.At(x)
	}
	return plainPalette(cs)
}

type plainPalette []color.Color

func (p plainPalette) Colors() []color.Color { return p }
