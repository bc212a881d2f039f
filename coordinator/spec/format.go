package spec

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// commas formats n with thousands separators: 10000000 → "10,000,000".
func commas(n int64) string { return group(strconv.FormatInt(n, 10)) }

// commaf formats a whole number held in a float64 (a count not yet known to
// fit an int) with thousands separators, or in e-notation when it is huge.
func commaf(v float64) string {
	if v != math.Trunc(v) || math.Abs(v) >= 1e21 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return group(strconv.FormatFloat(v, 'f', 0, 64))
}

// commab formats a big count with thousands separators.
func commab(v *big.Int) string { return group(v.String()) }

func group(digits string) string {
	sign := ""
	if len(digits) > 0 && digits[0] == '-' {
		sign, digits = "-", digits[1:]
	}
	out := make([]byte, 0, len(digits)+len(digits)/3)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return sign + string(out)
}

// byteSize formats a size in bytes for a person: "2.5 MB", "300.0 kB", "12 bytes".
func byteSize(n int) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}
