// Package placeholder substitutes a trial's parameters into an exec sweep's
// command template. It is the one definition of the template syntax: the spec
// checks templates with Names at submit, the worker expands them with Expand.
//
// # Syntax
//
// "{name}" stands for the value of parameter name ([a-z_][a-z0-9_]*); "{{"
// and "}}" are a literal "{" and "}". Anything else between braces, or a
// brace left alone, is an error saying where. Values are written by Format,
// so that a program parsing them as float64 gets exactly the trial's value.
package placeholder

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every malformed-template error.
var ErrSyntax = errors.New("bad placeholder")

// ErrUnknown is wrapped when a placeholder names no parameter.
var ErrUnknown = errors.New("unknown placeholder")

// piece is a literal run or, when name is set, a placeholder.
type piece struct {
	text string
	name string
}

func parse(arg string) ([]piece, error) {
	var out []piece
	var lit strings.Builder
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		switch {
		case c == '{' && i+1 < len(arg) && arg[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(arg) && arg[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(arg[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%w: %q: '{' at byte %d is not closed (write {{ for a literal {)", ErrSyntax, arg, i)
			}
			name := arg[i+1 : i+1+end]
			if !validName(name) {
				return nil, fmt.Errorf("%w: %q: {%s} at byte %d is not a parameter name [a-z_][a-z0-9_]* (write {{ for a literal {)", ErrSyntax, arg, name, i)
			}
			if lit.Len() > 0 {
				out = append(out, piece{text: lit.String()})
				lit.Reset()
			}
			out = append(out, piece{name: name})
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("%w: %q: '}' at byte %d has no '{' (write }} for a literal })", ErrSyntax, arg, i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 || len(out) == 0 {
		out = append(out, piece{text: lit.String()})
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// Names returns the parameter names arg's placeholders refer to, in order of
// appearance (repeats included).
func Names(arg string) ([]string, error) {
	ps, err := parse(arg)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range ps {
		if p.name != "" {
			names = append(names, p.name)
		}
	}
	return names, nil
}

// Expand substitutes every placeholder of arg by Format of its value.
func Expand(arg string, values map[string]float64) (string, error) {
	ps, err := parse(arg)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range ps {
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
