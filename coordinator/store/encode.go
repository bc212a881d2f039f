package store

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// appendTrialJSON appends to b the bytes json.Marshal gives for t, without
// reflection and with no allocation but b's growth: a submit encodes every
// trial of its grid. It reports false, with b as given, for what it leaves
// to encoding/json: a non-finite parameter (which json.Marshal refuses), a
// deadline outside the years time.Time.MarshalJSON accepts.
//
// The field order, names and omissions are Trial's struct tags;
// TestAppendTrialJSONMatchesMarshal and FuzzAppendTrialJSON hold the two
// encodings to the same bytes.
func appendTrialJSON(b []byte, t *Trial) ([]byte, bool) {
	start := len(b)
	b = append(b, `{"sweep":`...)
	b = appendJSONString(b, t.Sweep)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, t.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(t.Seq), 10)
	b = append(b, `,"params":`...)
	var ok bool
	if b, ok = appendJSONParams(b, t.Params); !ok {
		return b[:start], false
	}
	b = append(b, `,"key":`...)
	b = appendJSONString(b, t.Key)
	b = append(b, `,"state":`...)
	b = strconv.AppendUint(b, uint64(t.State), 10)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(t.Attempt), 10)
	if !t.Deadline.IsZero() { // omitzero
		d, err := t.Deadline.MarshalJSON()
		if err != nil {
			return b[:start], false
		}
		b = append(b, `,"deadline":`...)
		b = append(b, d...)
	}
	if t.LastError != "" { // omitempty
		b = append(b, `,"last_error":`...)
		b = appendJSONString(b, t.LastError)
	}
	b = append(b, `,"round":`...)
	b = strconv.AppendInt(b, int64(t.Round), 10)
	if t.Steps != 0 {
		b = append(b, `,"steps":`...)
		b = strconv.AppendInt(b, int64(t.Steps), 10)
	}
	if t.LeaseSeq != 0 {
		b = append(b, `,"lease_seq":`...)
		b = strconv.AppendInt(b, int64(t.LeaseSeq), 10)
	}
	return append(b, '}'), true
}

// appendJSONParams appends a parameter map as encoding/json does: null for
// a nil map, else its keys in sorted order. It reports false for a
// non-finite value.
func appendJSONParams(b []byte, m map[string]float64) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	var buf [32]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendJSONFloat(b, m[k]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendJSONFloat appends f as encoding/json writes a float64 (ES6 number
// formatting: %f between 1e-6 and 1e21, else an exponent without padding).
// It reports false for NaN and ±Inf, which encoding/json refuses.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString appends s quoted as json.Marshal quotes it: a string of
// printable ASCII with nothing to escape is copied as it is; any other is
// left to encoding/json (its escapes of control characters, of <, > and &,
// of U+2028 and U+2029 and of invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
