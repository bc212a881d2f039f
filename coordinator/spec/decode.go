package spec

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/eosweep/eosweep/engine"
)

// ErrEmpty is wrapped by Parse's error for a spec with nothing in it.
var ErrEmpty = errors.New("spec is empty")

// decode decodes a spec's YAML into raw. It refuses, with a message a
// newcomer can act on and no Go type names, an empty text, a key the spec
// does not have (naming it, where it is and the nearest known key), and a
// value of the wrong kind.
func decode(data []byte, raw *rawSpec) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, yamlError(err))
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
		return fmt.Errorf("%w: %w (give at least a name, a model and a grid)", ErrInvalid, ErrEmpty)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: line %d: want a mapping of %s", ErrInvalid, root.Line, strings.Join(keysOf(reflect.TypeFor[rawSpec]()), ", "))
	}
	if err := checkKeys(root, reflect.TypeFor[rawSpec](), ""); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := root.Decode(raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, yamlError(err))
	}
	return nil
}

// keysOf lists the YAML keys of a struct type, in declaration order, those
// of its inline fields in their place.
func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			keys = append(keys, keysOf(f.Type)...)
		case name != "" && name != "-":
			keys = append(keys, name)
		}
	}
	return keys
}

// checkKeys refuses a mapping key that t (a struct) has no field for, and
// checks the mappings of its struct-typed fields likewise. path is where the
// mapping is ("" at the top, "boundary.", ...).
func checkKeys(node *yaml.Node, t reflect.Type, path string) error {
	keys := keysOf(t)
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		j := slices.Index(keys, k.Value)
		if j < 0 {
			msg := fmt.Sprintf("line %d: %s%s: unknown key", k.Line, path, k.Value)
			if near := nearest(k.Value, keys); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			where := "a spec"
			if path != "" {
				where = strings.TrimSuffix(path, ".")
			}
			return fmt.Errorf("%s; %s takes %s", msg, where, strings.Join(keys, ", "))
		}
		ft := fieldType(t, k.Value)
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && v.Kind == yaml.MappingNode {
			if err := checkKeys(v, ft, path+k.Value+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldType is the type of t's field with YAML key name (looked for in its
// inline fields too), nil when it has none.
func fieldType(t reflect.Type, name string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		n, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			if ft := fieldType(f.Type, name); ft != nil {
				return ft
			}
			continue
		}
		if n == name {
			return f.Type
		}
	}
	return nil
}

// nearest returns the candidate closest to s in edit distance, if it is close
// enough to be a misspelling (at most a third of s's letters, at least 1), else "".
func nearest(s string, candidates []string) string {
	best, bestD := "", max(1, len(s)/3)+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the edit distance between a and b counting insertions,
// deletions, substitutions and swaps of neighbours (optimal string
// alignment), in bytes: keys are ASCII.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// typeErr matches one of yaml's type errors: "line 3: cannot unmarshal !!str
// `abc` into float64".
var typeErr = regexp.MustCompile("^(line \\d+: )?cannot unmarshal !!(\\w+) ?(`[^`]*`)? into (.+)$")

// kinds says in words what a Go type of the raw spec wants.
var kinds = map[string]string{
	"float64": "a number", "*float64": "a number", "int": "a whole number", "string": "a text",
	"[]float64": "a list of numbers", "map[string]float64": "a mapping of parameter names to numbers",
	"map[string]yaml.Node": "a mapping of parameter names to axes",
	"*string":              "a text", "[]string": "a list of texts", "map[string]string": "a mapping of names to texts",
	"[]yaml.Node": "a list",
}

// yamlError rewrites yaml's type errors without Go type names.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		sub := typeErr.FindStringSubmatch(m)
		if sub == nil {
			continue
		}
		want, ok := kinds[sub[4]]
		if !ok {
			want = "a mapping"
		}
		got := sub[3]
		if got == "" {
			got = map[string]string{"seq": "a list", "map": "a mapping"}[sub[2]]
		}
		if got == "" {
			got = "this value"
		}
		msgs[i] = fmt.Sprintf("%s%s: want %s", sub[1], got, want)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// unknownParam refuses a parameter the model does not take, listing the ones it does.
func unknownParam(field, model string) error {
	return fmt.Errorf("%w: %s: %w for model %s (it takes %s)", ErrInvalid, field, engine.ErrUnknownParam, model,
		strings.Join(engine.ParamNames(model), ", "))
}
