// Package placeholder substitutes a trial's parameters into an exec sweep's
// command template. It is the one definition of the template syntax: the spec
// checks templates with Names at submit, the worker expands them with Expand.
//
// # Syntax
//
// "{name}", name a parameter name ([a-z_][a-z0-9_]*), stands for the value
// of that parameter; "{{name}}" is the literal text "{name}". Every other
// character is itself, braces included, so that arguments holding JSON,
// shell or awk code ('{"lr": 1}', '{ print $1 }') need no escaping. Values
// are written by Format, so that a program parsing them as float64 gets
// exactly the trial's value.
package placeholder

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrUnknown is wrapped when a placeholder names no parameter.
var ErrUnknown = errors.New("unknown placeholder")

// piece is a literal run or, when name is set, a placeholder.
type piece struct {
	text string
	name string
}

// nameAt returns the length of the parameter name starting at arg[i] and
// closed by '}' (0 when there is none).
func nameAt(arg string, i int) int {
	j := i
	for j < len(arg) {
		c := arg[j]
		if c == '_' || (c >= 'a' && c <= 'z') || (j > i && c >= '0' && c <= '9') {
			j++
			continue
		}
		break
	}
	if j == i || j >= len(arg) || arg[j] != '}' {
		return 0
	}
	return j - i
}

func parse(arg string) []piece {
	var out []piece
	var lit strings.Builder
	for i := 0; i < len(arg); i++ {
		if arg[i] != '{' {
			lit.WriteByte(arg[i])
			continue
		}
		// {{name}}: the literal {name}.
		if i+1 < len(arg) && arg[i+1] == '{' {
			if n := nameAt(arg, i+2); n > 0 && i+3+n < len(arg) && arg[i+3+n] == '}' {
				lit.WriteString(arg[i+1 : i+3+n])
				i += 3 + n
				continue
			}
		}
		n := nameAt(arg, i+1)
		if n == 0 {
			lit.WriteByte('{')
			continue
		}
		if lit.Len() > 0 {
			out = append(out, piece{text: lit.String()})
			lit.Reset()
		}
		out = append(out, piece{name: arg[i+1 : i+1+n]})
		i += n + 1
	}
	if lit.Len() > 0 || len(out) == 0 {
		out = append(out, piece{text: lit.String()})
	}
	return out
}

// Names returns the parameter names arg's placeholders refer to, in order of
// appearance (repeats included).
func Names(arg string) []string {
	var names []string
	for _, p := range parse(arg) {
		if p.name != "" {
			names = append(names, p.name)
		}
	}
	return names
}

// Expand substitutes every placeholder of arg by Format of its value.
func Expand(arg string, values map[string]float64) (string, error) {
	var b strings.Builder
	for _, p := range parse(arg) {
		if p.name == "" {
			b.WriteString(p.text)
			continue
		}
		v, ok := values[p.name]
		if !ok {
			return "", fmt.Errorf("%w: {%s} in %q: no parameter of that name", ErrUnknown, p.name, arg)
		}
		b.WriteString(Format(v))
	}
	return b.String(), nil
}

// ExpandAll expands every element of args.
func ExpandAll(args []string, values map[string]float64) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		var err error
		if out[i], err = Expand(a, values); err != nil {
			return nil, fmt.Errorf("command[%d]: %w", i, err)
		}
	}
	return out, nil
}

// Format writes v so that parsing it as a float64 gives v back exactly:
// whole numbers below 10¹⁵ in magnitude as plain digits ("3", "-200"; what
// an integer parser accepts too), every other value in the shortest form that
// round-trips ("0.0025", "2.5e-05", "1e+21").
func Format(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
