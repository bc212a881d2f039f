package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestDecodeHeadAsUnmarshal: the restart's decoder of a trial record's head
// gives json.Unmarshal's fields, or declines (and Unmarshal decodes).
func TestDecodeHeadAsUnmarshal(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 12, 1, 20, 0, 0, 123456789, time.FixedZone("x", 3600))
	recs := []Trial{
		{Sweep: "s", ID: "0123456789abcdef", Seq: 7, Params: map[string]float64{"eta": 0.5, "seed": -3e-9}, Key: `single eta=0.5 "q" {x} [y] \ z`, State: Pending, Steps: 1},
		{Sweep: "s", ID: "a", Seq: 1 << 40, State: Leased, Attempt: 3, Deadline: deadline, LastError: "lease \"expired\"\n\tof {worker}", Round: 4, Steps: -1},
		{Sweep: "s", ID: "b", State: Done},
	}
	var inputs [][]byte
	for _, r := range recs {
		v, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, v)
	}
	inputs = append(inputs,
		[]byte(` { "id" : "x", "extra": [1, {"a": "}"}], "seq": 2, "state": 3, "flag": true, "n": null } `),
		[]byte(`{}`),
		[]byte(`{"id":"esc\u0041ped","seq":1}`), // declined: escaped id
		[]byte(`{"id":"x","seq":1.5}`),          // declined: not an int
		[]byte(`{"id":"x","seq":1`),             // declined: truncated
		[]byte(`{"id":"x","state":300}`),        // declined: not a uint8
	)
	for _, v := range inputs {
		var want trialHead
		wantErr := json.Unmarshal(v, &want)
		var got trialHead
		if !decodeHead(v, &got) {
			t.Logf("declined %s (Unmarshal: %v)", v, wantErr)
			continue
		}
		if wantErr != nil {
			t.Errorf("decoded %s, which Unmarshal refuses: %v", v, wantErr)
			continue
		}
		if !got.Deadline.Equal(want.Deadline) {
			t.Errorf("%s: deadline %v, want %v", v, got.Deadline, want.Deadline)
		}
		got.Deadline, want.Deadline = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", v, got, want)
		}
	}
	// The common records are not declined.
	for _, v := range inputs[:4] {
		var h trialHead
		if !decodeHead(v, &h) {
			t.Errorf("declined %s", v)
		}
	}
}
