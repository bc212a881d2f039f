package placeholder

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	vals := map[string]float64{"eta": 0.0025, "seed": 3, "width": 200, "neg": -1.5, "tiny": 2.5e-5, "big": 1e21, "x_1": 7}
	tests := []struct{ in, want string }{
		{"--lr", "--lr"},
		{"", ""},
		{"{eta}", "0.0025"},
		{"{seed}", "3"},
		{"--width={width}", "--width=200"},
		{"{neg}:{tiny}:{big}", "-1.5:2.5e-05:1e+21"},
		{"out/{seed}-{x_1}.json", "out/3-7.json"},
		{"{{eta}}", "{eta}"},
		{"{{eta}}={eta}", "{eta}=0.0025"},
		{`{"lr": {eta}, "nested": {"a": 1}}`, `{"lr": 0.0025, "nested": {"a": 1}}`},
		{`awk '{ print $1 }'`, `awk '{ print $1 }'`},
		{"{Eta} {eta {} {1a} }{", "{Eta} {eta {} {1a} }{"},
		{"{{", "{{"},
		{"{{eta}", "{0.0025"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, vals)
		if err != nil || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestUnknown(t *testing.T) {
	t.Parallel()
	if _, err := Expand("--lr={lr}", map[string]float64{"eta": 1}); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "{lr}") {
		t.Errorf("Expand: %v, want ErrUnknown naming {lr}", err)
	}
	if _, err := ExpandAll([]string{"ok", "{x}"}, nil); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "command[1]") {
		t.Errorf("ExpandAll: %v, want an error naming command[1]", err)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	if got := Names(`{a}-{{b}}-{c_2}{a} {"k": 1}`); !reflect.DeepEqual(got, []string{"a", "c_2", "a"}) {
		t.Fatalf("Names = %v", got)
	}
	if got := Names("plain"); got != nil {
		t.Fatalf("Names(plain) = %v", got)
	}
}

// Format round-trips every float64 through strconv.ParseFloat, and whole
// numbers of ordinary size read as integers.
func TestFormatRoundTrips(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 3, 1e14, 1e15, 1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64,
		0.1, 1.0 / 3, 8 * math.Pi / 1e4, 2.513274122871834e-3}
	for range 10000 {
		vals = append(vals, math.Float64frombits(r.Uint64()), r.NormFloat64()*1e-3, float64(r.IntN(1e9)))
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		s := Format(v)
		got, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(v) {
			t.Fatalf("Format(%v) = %q parses to %v, %v", v, s, got, err)
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			if _, err := strconv.ParseInt(s, 10, 64); err != nil && v != 0 {
				t.Fatalf("Format(%v) = %q is not an integer literal", v, s)
			}
		}
	}
}
