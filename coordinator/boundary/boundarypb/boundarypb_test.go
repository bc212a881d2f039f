package boundarypb_test

import (
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/boundary/boundarypb"
	"github.com/eosweep/eosweep/internal/wire/wiretest"
)

func TestGroupRoundTrip(t *testing.T) {
	t.Parallel()
	var g boundary.Group
	wiretest.Fill(t, &g, map[reflect.Type]any{
		reflect.TypeFor[boundary.Crossing](): boundary.CrossingBelow, reflect.TypeFor[boundary.Sense](): boundary.SenseRise})
	if got := boundarypb.GroupFromProto(boundarypb.GroupToProto(g)); !reflect.DeepEqual(got, g) {
		t.Fatalf("round trip lost fields:\n got %+v\nwant %+v", got, g)
	}
}
