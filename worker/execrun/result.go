package execrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/eosweep/eosweep/engine"
)

// parsed is a program's result with whether it gave wall_ms itself.
type parsed struct {
	engine.Result
	hasWall bool
}

func (p parsed) wallSet() (float64, bool) { return p.WallMS, p.hasWall }

// result takes the program's result from the $EOSWEEP_RESULT file when it
// wrote one, else from the last candidate line of stdout; a result without a
// trajectory gets the progress points.
func (r *Runner) result(path string, out stdoutScan) (parsed, error) {
	var data []byte
	var from string
	f, err := os.Open(path)
	switch {
	case err == nil:
		data, err = io.ReadAll(io.LimitReader(f, MaxResultFile+1))
		f.Close()
		if err != nil {
			return parsed{}, fmt.Errorf("%w: read $EOSWEEP_RESULT: %w", ErrNoResult, err)
		}
		if len(data) > MaxResultFile {
			return parsed{}, fmt.Errorf("%w: $EOSWEEP_RESULT holds more than %d bytes", ErrNoResult, MaxResultFile)
		}
		from = "$EOSWEEP_RESULT"
	case !errors.Is(err, os.ErrNotExist):
		return parsed{}, fmt.Errorf("%w: open $EOSWEEP_RESULT: %w", ErrNoResult, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		switch {
		case out.last != nil:
			data, from = out.last, "the last line of stdout"
		case out.lastLong:
			return parsed{}, fmt.Errorf("%w: the last line of stdout is longer than %d bytes", ErrNoResult, MaxLine)
		default:
			return parsed{}, fmt.Errorf("%w: the program exited 0 but printed no result (print one JSON object as the last line of stdout, or write it to $EOSWEEP_RESULT)", ErrNoResult)
		}
	}
	res, err := parseResult(data)
	if err != nil {
		return parsed{}, fmt.Errorf("%w: %s: %w", ErrNoResult, from, err)
	}
	if res.Trajectory == nil && len(out.progress) > 0 {
		res.Trajectory = thin(out.progress, engine.MaxTrajectory)
	}
	return res, nil
}

// parseResult decodes one result object (see the package doc).
func parseResult(data []byte) (parsed, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		if bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Infinity")) {
			return parsed{}, fmt.Errorf("not JSON (NaN and Infinity are not JSON numbers: leave the field out, or set diverged): %w", err)
		}
		return parsed{}, fmt.Errorf("not a JSON object: %w (%.60q)", err, data)
	}
	var p parsed
	metrics := 0
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw := bytes.TrimSpace(fields[k])
		if k == "trajectory" {
			traj, err := parseTrajectory(raw)
			if err != nil {
				return parsed{}, err
			}
			p.Trajectory = traj
			continue
		}
		if len(raw) == 0 {
			continue
		}
		var v float64
		switch c := raw[0]; {
		case c == 't' || c == 'f':
			if !engine.IsBoolField(k) {
				continue // a flag of the program's own: not a metric
			}
			v = 0
			if c == 't' {
				v = 1
			}
		case c == '-' || (c >= '0' && c <= '9'):
			var err error
			if v, err = number(k, raw); err != nil {
				return parsed{}, err
			}
		default:
			continue // strings, null, objects, lists: not metrics
		}
		if !engine.IsField(k) {
			if !engine.ValidName(k) {
				return parsed{}, fmt.Errorf("field %.80q: a metric's name is [a-z_][a-z0-9_]* of at most %d bytes", k, engine.MaxMetricName)
			}
			if metrics++; metrics > engine.MaxMetrics {
				return parsed{}, fmt.Errorf("more than %d metrics besides eosweep's result fields", engine.MaxMetrics)
			}
		}
		if k == "steps_run" && (v != math.Trunc(v) || v < 0 || v > math.MaxInt32) {
			return parsed{}, fmt.Errorf("field steps_run: %v is not a whole number in [0, %d]", v, math.MaxInt32)
		}
		if k == "wall_ms" {
			p.hasWall = true
		}
		p.SetMetric(k, v)
	}
	return p, nil
}

// number parses a JSON number that must be finite as a float64.
func number(field string, raw []byte) (float64, error) {
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("field %s: %.40s is not a finite number", field, raw)
	}
	return v, nil
}

// parseTrajectory decodes a list of points and thins it to
// engine.MaxTrajectory.
func parseTrajectory(raw []byte) ([]engine.Point, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("field trajectory: not a list of {step, loss, bias, sharpness}: %w", err)
	}
	pts := make([]engine.Point, len(items))
	for i, it := range items {
		p, err := parsePoint(it)
		if err != nil {
			return nil, fmt.Errorf("trajectory[%d]: %w", i, err)
		}
		pts[i] = p
	}
	return thin(pts, engine.MaxTrajectory), nil
}

// parsePoint decodes {step, loss, bias, sharpness}: step a whole number ≥ 0,
// the others finite numbers; missing ones 0, others ignored.
func parsePoint(raw []byte) (engine.Point, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		return engine.Point{}, fmt.Errorf("not a JSON object {step, loss, bias, sharpness}: %w", err)
	}
	vals := map[string]float64{}
	for _, k := range []string{"step", "loss", "bias", "sharpness"} {
		r, ok := f[k]
		if !ok {
			continue
		}
		v, err := number(k, bytes.TrimSpace(r))
		if err != nil {
			return engine.Point{}, err
		}
		vals[k] = v
	}
	step := vals["step"]
	if step != math.Trunc(step) || step < 0 || step > math.MaxInt32 {
		return engine.Point{}, fmt.Errorf("step: %v is not a whole number in [0, %d]", step, math.MaxInt32)
	}
	return engine.Point{Step: int(step), Loss: vals["loss"], Bias: vals["bias"], Sharpness: vals["sharpness"]}, nil
}
