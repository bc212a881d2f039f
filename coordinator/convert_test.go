package coordinator

import (
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// fillNonZero sets every field of the struct v points to a distinct non-zero
// value, so a round trip that drops a field (one added later included) fails.
func fillNonZero(t *testing.T, v reflect.Value, seed *float64) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		*seed += 1.25
		switch f.Kind() {
		case reflect.Float64:
			f.SetFloat(*seed)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(*seed * 4))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.String:
			if f.Type() == reflect.TypeOf(boundary.Crossing("")) {
				f.SetString(string(boundary.CrossingBelow))
			} else {
				f.SetString("s" + reflect.ValueOf(*seed).String())
			}
		case reflect.Struct:
			fillNonZero(t, f, seed)
		case reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			p.Elem().SetFloat(*seed)
			f.Set(p)
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]float64{"width": *seed}))
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 2, 2)
			for j := range 2 {
				fillNonZero(t, s.Index(j), seed)
			}
			f.Set(s)
		default:
			t.Fatalf("field %s: kind %v not handled", v.Type().Field(i).Name, f.Kind())
		}
	}
}

func TestGroupRoundTrip(t *testing.T) {
	t.Parallel()
	var g boundary.Group
	seed := 0.0
	fillNonZero(t, reflect.ValueOf(&g).Elem(), &seed)
	if got := GroupFromProto(GroupToProto(g)); !reflect.DeepEqual(got, g) {
		t.Fatalf("round trip lost fields:\n got %+v\nwant %+v", got, g)
	}
}

func TestResultRoundTrip(t *testing.T) {
	t.Parallel()
	var r engine.Result
	seed := 0.0
	fillNonZero(t, reflect.ValueOf(&r).Elem(), &seed)
	got, err := ResultFromProto(ResultToProto(r))
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, r)
	}
}
