// Package wiretest helps test protobuf conversions: Fill gives every field of
// a struct a distinct non-zero value, so a round trip that drops a field (one
// added later included) fails.
package wiretest

import (
	"reflect"
	"strconv"
	"testing"
)

// Fill sets every settable field of the struct ptr points to, recursively, to
// a distinct non-zero value: numbers count up, booleans are true, strings are
// "s" and a number, maps get one entry {"width": n}, slices two elements,
// pointers a new value. A field whose type is a key of fixed gets that value
// instead (for enumerations such as a string with a few legal values).
func Fill(t testing.TB, ptr any, fixed map[reflect.Type]any) {
	t.Helper()
	seed := 0.0
	fill(t, reflect.ValueOf(ptr).Elem(), &seed, fixed)
}

func fill(t testing.TB, v reflect.Value, seed *float64, fixed map[reflect.Type]any) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		set(t, v.Type().Field(i).Name, f, seed, fixed)
	}
}

// set gives one value (a field, or a slice element) its distinct value.
func set(t testing.TB, name string, f reflect.Value, seed *float64, fixed map[reflect.Type]any) {
	t.Helper()
	*seed += 1.25
	if x, ok := fixed[f.Type()]; ok {
		f.Set(reflect.ValueOf(x))
		return
	}
	switch f.Kind() {
	case reflect.Float64:
		f.SetFloat(*seed)
	case reflect.Int, reflect.Int64:
		f.SetInt(int64(*seed * 4))
	case reflect.Bool:
		f.SetBool(true)
	case reflect.String:
		f.SetString("s" + strconv.FormatFloat(*seed, 'g', -1, 64))
	case reflect.Struct:
		fill(t, f, seed, fixed)
	case reflect.Pointer:
		p := reflect.New(f.Type().Elem())
		p.Elem().SetFloat(*seed)
		f.Set(p)
	case reflect.Map:
		f.Set(reflect.ValueOf(map[string]float64{"width": *seed}))
	case reflect.Slice:
		s := reflect.MakeSlice(f.Type(), 2, 2)
		for j := range 2 {
			set(t, name, s.Index(j), seed, fixed)
		}
		f.Set(s)
	default:
		t.Fatalf("field %s: kind %v not handled", name, f.Kind())
	}
}
