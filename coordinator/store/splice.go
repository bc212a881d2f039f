package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// trialFields are a trial record's fields in the order Trial declares and
// json.Marshal writes them; required ones are always written.
var trialFields = [...]struct {
	name     string
	required bool
}{
	{"sweep", true}, {"id", true}, {"seq", true}, {"params", true}, {"key", true},
	{"state", true}, {"attempt", true}, {"deadline", false}, {"last_error", false},
	{"round", true}, {"steps", false}, {"lease_seq", false},
}

// Indexes into trialFields.
const (
	fieldID       = 1
	fieldSeq      = 2
	fieldParams   = 3
	fieldState    = 5
	fieldAttempt  = 6
	fieldDeadline = 7
	fieldRound    = 9
	fieldSteps    = 10
	fieldLeaseSeq = 11
)

// spliceUpdate is apply without encoding/json: it copies the record's
// unchanged head (sweep, id, seq, params, key) and writes the fields u sets
// after it, giving the bytes json.Unmarshal into rawTrial and json.Marshal
// back would give. Every lease and every result rewrites a trial record, so
// this is on the coordinator's commit path twice per trial.
//
// It reports false — the caller then takes the encoding/json path, which
// also names what is wrong — for a record that is not as this package
// writes it: not compact, with a byte that encoding/json could write
// otherwise (an escape, a non-ASCII or HTML character, a non-canonical
// number), fields out of order, unknown or missing, or another trial's id.
func (u *TrialUpdate) spliceUpdate(old []byte) ([]byte, bool) {
	for _, c := range old {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '<' || c == '>' || c == '&' {
			return nil, false
		}
	}
	d := headDecoder{b: old}
	if d.next() != '{' {
		return nil, false
	}
	var (
		headEnd      int // where the state field's comma starts
		round, steps int
		hasSteps     bool
		want         int // index in trialFields of the next field allowed
	)
	for first := true; ; first = false {
		if !first && d.next() != ',' {
			return nil, false
		}
		keyStart := d.i
		if !d.at('"') { // plainString would skip white space first
			return nil, false
		}
		name, ok := d.plainString()
		if !ok || d.next() != ':' {
			return nil, false
		}
		f := want
		for f < len(trialFields) && trialFields[f].name != string(name) {
			if trialFields[f].required {
				return nil, false
			}
			f++
		}
		if f == len(trialFields) {
			return nil, false
		}
		want = f + 1
		valStart := d.i
		switch f {
		case fieldID:
			if !d.at('"') {
				return nil, false
			}
			id, ok := d.plainString()
			if !ok || string(id) != u.ID {
				return nil, false
			}
		case fieldSeq, fieldState, fieldAttempt, fieldRound, fieldSteps, fieldLeaseSeq:
			var n int
			if !d.int(&n) || !canonicalInt(old[valStart:d.i], n) {
				return nil, false
			}
			switch f {
			case fieldState:
				if n < 0 || n > 255 { // TrialState is a uint8
					return nil, false
				}
			case fieldRound:
				round = n
			case fieldSteps:
				steps, hasSteps = n, true
			}
		case fieldParams: // compact (no white space at all) and valid, as json.Marshal checks a RawMessage
			if !d.skipValue() || bytes.ContainsAny(old[valStart:d.i], " \t\r\n") || !json.Valid(old[valStart:d.i]) {
				return nil, false
			}
		case fieldDeadline: // replaced, but encoding/json would refuse a bad one
			if !d.skipString() {
				return nil, false
			}
			var t time.Time
			if t.UnmarshalJSON(old[valStart:d.i]) != nil {
				return nil, false
			}
		default: // sweep, key, deadline, last_error: strings
			if !d.skipString() {
				return nil, false
			}
		}
		if f == fieldState {
			headEnd = keyStart - 1 // the comma before "state"
		}
		if d.i < len(old) && old[d.i] == '}' {
			if d.i+1 != len(old) || want <= fieldRound {
				return nil, false
			}
			break
		}
	}
	if hasSteps && steps == 0 {
		return nil, false // json.Marshal omits a zero steps
	}
	b := make([]byte, 0, len(old)+64)
	b = append(b, old[:headEnd]...)
	b = append(b, `,"state":`...)
	b = strconv.AppendUint(b, uint64(u.State), 10)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(u.Attempt), 10)
	if !u.Deadline.IsZero() { // as time.Time.MarshalJSON writes it
		b = append(b, `,"deadline":"`...)
		var err error
		if b, err = u.Deadline.AppendText(b); err != nil {
			return nil, false
		}
		b = append(b, '"')
	}
	if u.LastError != "" {
		b = append(b, `,"last_error":`...)
		b = appendJSONString(b, u.LastError)
	}
	b = append(b, `,"round":`...)
	b = strconv.AppendInt(b, int64(round), 10)
	if steps != 0 {
		b = append(b, `,"steps":`...)
		b = strconv.AppendInt(b, int64(steps), 10)
	}
	if u.LeaseSeq != 0 {
		b = append(b, `,"lease_seq":`...)
		b = strconv.AppendInt(b, int64(u.LeaseSeq), 10)
	}
	return append(b, '}'), true
}

// canonicalInt reports whether raw is how strconv (and encoding/json)
// writes n: no leading zeros, no "-0".
func canonicalInt(raw []byte, n int) bool {
	var buf [20]byte
	return bytes.Equal(raw, strconv.AppendInt(buf[:0], int64(n), 10))
}

// at reports whether the next byte is c (white space is not skipped).
func (d *headDecoder) at(c byte) bool { return d.i < len(d.b) && d.b[d.i] == c }
