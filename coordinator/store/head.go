package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// decodeHead decodes the fields of trialHead from a trial record as
// json.Unmarshal would, without scanning into the parameters and key (a
// restart reads a million records). It returns false for anything it does
// not expect — an escaped id or key name, a value of the wrong kind, bad
// syntax — and the caller then decodes the record with json.Unmarshal.
func decodeHead(v []byte, h *trialHead) bool {
	d := headDecoder{b: v}
	if !d.byte('{') {
		return false
	}
	if d.peek() == '}' {
		return true
	}
	for {
		key, ok := d.plainString()
		if !ok || !d.byte(':') {
			return false
		}
		d.ws()
		switch string(key) {
		case "id":
			s, ok := d.plainString()
			if !ok {
				return false
			}
			h.ID = string(s)
		case "seq":
			ok = d.int(&h.Seq)
		case "attempt":
			ok = d.int(&h.Attempt)
		case "round":
			ok = d.int(&h.Round)
		case "steps":
			ok = d.int(&h.Steps)
		case "lease_seq":
			ok = d.int(&h.LeaseSeq)
		case "state":
			var n int
			if ok = d.int(&n) && n >= 0 && n <= 255; ok {
				h.State = TrialState(n)
			}
		case "deadline":
			s, plain := d.plainString()
			if ok = plain; ok {
				var t time.Time
				if t, ok = parseTime(s); ok {
					h.Deadline = t
				}
			}
		case "last_error":
			start := d.i
			if ok = d.skipString(); ok {
				ok = json.Unmarshal(d.b[start:d.i], &h.LastError) == nil
			}
		default:
			ok = d.skipValue()
		}
		if !ok {
			return false
		}
		d.ws()
		switch d.next() {
		case ',':
			d.ws()
		case '}':
			d.ws()
			return d.i == len(d.b)
		default:
			return false
		}
	}
}

func parseTime(s []byte) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(s))
	return t, err == nil
}

type headDecoder struct {
	b []byte
	i int
}

func (d *headDecoder) ws() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

func (d *headDecoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *headDecoder) next() byte {
	if d.i < len(d.b) {
		d.i++
		return d.b[d.i-1]
	}
	return 0
}

// byte consumes c after white space.
func (d *headDecoder) byte(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// plainString consumes a string without escapes and returns its contents.
func (d *headDecoder) plainString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(d.b[d.i:], '"')
	if end < 0 {
		return nil, false
	}
	s := d.b[d.i : d.i+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	for _, c := range s {
		if c < 0x20 {
			return nil, false
		}
	}
	d.i += end + 1
	return s, true
}

// skipString consumes a string, escapes and all.
func (d *headDecoder) skipString() bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch d.b[j] {
		case '\\':
			j++
		case '"':
			d.i = j + 1
			return true
		}
	}
	return false
}

// int consumes an integer.
func (d *headDecoder) int(n *int) bool {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	v, err := strconv.Atoi(string(d.b[start:d.i]))
	if err != nil {
		return false
	}
	*n = v
	return true
}

// skipValue consumes any value; a number or literal is left to the caller's
// check of what follows it.
func (d *headDecoder) skipValue() bool {
	if d.i >= len(d.b) {
		return false
	}
	switch d.b[d.i] {
	case '"':
		return d.skipString()
	case '{', '[':
		depth := 0
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case '"':
				if !d.skipString() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					d.i++
					return true
				}
			}
			d.i++
		}
		return false
	}
	for d.i < len(d.b) && !bytes.ContainsRune([]byte(",}] \t\n\r"), rune(d.b[d.i])) {
		d.i++
	}
	return true
}
