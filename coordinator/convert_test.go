package coordinator

import (
	"errors"
	"reflect"
	"testing"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// TrialFromProto takes back what TrialToProto sends (the record's Seq, Key and
// Deadline do not cross the wire), and refuses a result wire.ResultFromProto refuses.
func TestTrialRoundTrip(t *testing.T) {
	t.Parallel()
	tr := store.Trial{Sweep: "sw", ID: "t1", Params: map[string]float64{"eta": 0.5}, State: store.Done,
		Attempt: 2, Round: 1, LastError: "earlier"}
	res := engine.Result{FinalBias: -0.25, StepsRun: 7, Trajectory: []engine.Point{{Step: 0, Loss: 1}}}
	for _, r := range []*engine.Result{&res, nil} {
		gotT, gotR, err := TrialFromProto(TrialToProto(tr, r))
		if err != nil || !reflect.DeepEqual(gotT, tr) || !reflect.DeepEqual(gotR, r) {
			t.Errorf("round trip with result %v: %v\n got %+v %+v\nwant %+v %+v", r != nil, err, gotT, gotR, tr, r)
		}
	}
	bad := TrialToProto(tr, &res)
	bad.Result.StepsRun = -1
	if _, _, err := TrialFromProto(bad); !errors.Is(err, engine.ErrInvalidResult) {
		t.Errorf("a result with negative steps_run: error %v, want engine.ErrInvalidResult", err)
	}
}
