package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/placeholder"
)

// Bounds of an exec block, so that a spec cannot make the coordinator or a
// worker hold more than this per sweep.
const (
	MaxExecArgs     = 256      // elements of exec.command
	MaxExecArgBytes = 4096     // bytes of one element, one env value or the workdir
	MaxExecBytes    = 64 << 10 // bytes of the command and env together
	MaxExecEnv      = 64       // entries of exec.env
	MaxExecTimeout  = 7 * 24 * time.Hour
)

// NoSteps is Trial.Steps of an exec trial: its program decides how many
// steps it runs, so its result is not checked against a step count.
const NoSteps = -1

// Exec is how a model exec sweep runs a trial: a program with arguments in
// which {name} stands for the trial's parameter name (package placeholder).
type Exec struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Workdir string            `json:"workdir,omitempty"`
	Timeout time.Duration     `json:"timeout"`
}

type rawExec struct {
	Command []string          `yaml:"command"`
	Env     map[string]string `yaml:"env"`
	Workdir string            `yaml:"workdir"`
	Timeout string            `yaml:"timeout"`
}

// parseExec checks the exec block against the model: required for model
// exec (command non-empty, bounded, every placeholder naming a grid axis or
// a param, the program itself without one; env names valid and not
// EOSWEEP_*; timeout given, > 0), refused for the engine's models.
func (s *Spec) parseExec(raw *rawExec) error {
	if s.Model != engine.ModelExec {
		if raw != nil {
			return fmt.Errorf("%w: exec: only for model %s (model %s runs on the engine)", ErrInvalid, engine.ModelExec, s.Model)
		}
		return nil
	}
	if raw == nil {
		return fmt.Errorf("%w: exec: required for model %s (give exec.command and exec.timeout)", ErrInvalid, engine.ModelExec)
	}
	e := &Exec{Command: raw.Command, Env: raw.Env, Workdir: raw.Workdir}
	if len(e.Command) == 0 || e.Command[0] == "" {
		return fmt.Errorf("%w: exec.command: empty (give the program and its arguments, e.g. [python3, train.py, --lr, \"{eta}\"])", ErrInvalid)
	}
	if len(e.Command) > MaxExecArgs {
		return fmt.Errorf("%w: exec.command: %d elements, at most %d", ErrInvalid, len(e.Command), MaxExecArgs)
	}
	total := 0
	known := s.names()
	for i, arg := range e.Command {
		total += len(arg)
		if len(arg) > MaxExecArgBytes || strings.IndexByte(arg, 0) >= 0 {
			return fmt.Errorf("%w: exec.command[%d]: %d bytes or a NUL byte (at most %d bytes, no NUL)", ErrInvalid, i, len(arg), MaxExecArgBytes)
		}
		names := placeholder.Names(arg)
		if i == 0 && len(names) > 0 {
			return fmt.Errorf("%w: exec.command[0]: the program %q may not hold a placeholder (workers allow programs by name)", ErrInvalid, arg)
		}
		for _, n := range names {
			if !known[n] {
				return fmt.Errorf("%w: exec.command[%d]: %w {%s}: not a grid axis or param (have %s)", ErrInvalid, i, placeholder.ErrUnknown, n,
					strings.Join(slices.Sorted(maps.Keys(known)), ", "))
			}
		}
	}
	if len(e.Env) > MaxExecEnv {
		return fmt.Errorf("%w: exec.env: %d entries, at most %d", ErrInvalid, len(e.Env), MaxExecEnv)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Env)) {
		v := e.Env[k]
		total += len(k) + len(v)
		switch {
		case !envName(k):
			return fmt.Errorf("%w: exec.env.%.80s: not an environment variable name [A-Za-z_][A-Za-z0-9_]*", ErrInvalid, k)
		case strings.HasPrefix(k, "EOSWEEP_"):
			return fmt.Errorf("%w: exec.env.%s: EOSWEEP_* variables are set by the worker", ErrInvalid, k)
		case len(v) > MaxExecArgBytes || strings.IndexByte(v, 0) >= 0:
			return fmt.Errorf("%w: exec.env.%s: %d bytes or a NUL byte (at most %d bytes, no NUL)", ErrInvalid, k, len(v), MaxExecArgBytes)
		}
	}
	if total > MaxExecBytes {
		return fmt.Errorf("%w: exec: command and env hold %d bytes, at most %d", ErrInvalid, total, MaxExecBytes)
	}
	if len(e.Workdir) > MaxExecArgBytes || strings.IndexByte(e.Workdir, 0) >= 0 {
		return fmt.Errorf("%w: exec.workdir: %d bytes or a NUL byte (at most %d bytes, no NUL)", ErrInvalid, len(e.Workdir), MaxExecArgBytes)
	}
	if raw.Timeout == "" {
		return fmt.Errorf("%w: exec.timeout: required (how long one trial may run, e.g. 10m)", ErrInvalid)
	}
	d, err := time.ParseDuration(raw.Timeout)
	if err != nil || d <= 0 || d > MaxExecTimeout {
		return fmt.Errorf("%w: exec.timeout: %q is not a duration in (0, %v] (e.g. 90s, 10m, 2h)", ErrInvalid, raw.Timeout, MaxExecTimeout)
	}
	e.Timeout = d
	s.Exec = e
	return nil
}

// names returns the names a placeholder may take: the grid axes and params.
func (s *Spec) names() map[string]bool {
	out := map[string]bool{}
	for _, a := range s.Grid {
		out[a.Name] = true
	}
	for k := range s.Params {
		out[k] = true
	}
	return out
}

func envName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// execTrial is the trial of an exec sweep at params. Its key is the command
// template and the parameters in canonical form (sorted names, values that
// round-trip), its ID a hash of the key, as for the engine's trials.
func (s *Spec) execTrial(params map[string]float64) (Trial, error) {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if err := checkName(s.Model, "params", k); err != nil {
			return Trial{}, err
		}
		if v := params[k]; !finite(v) {
			return Trial{}, fmt.Errorf("parameter %q: %w: %v is not a finite number", k, engine.ErrBadParam, v)
		}
	}
	if _, err := placeholder.ExpandAll(s.Exec.Command, params); err != nil {
		return Trial{}, fmt.Errorf("exec.%w", err)
	}
	cmd, err := json.Marshal(s.Exec.Command)
	if err != nil {
		return Trial{}, fmt.Errorf("exec.command: %w", err)
	}
	var b strings.Builder
	b.WriteString(engine.ModelExec + " ")
	b.Write(cmd)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(&b, " %s=%s", k, placeholder.Format(params[k]))
	}
	key := b.String()
	sum := sha256.Sum256([]byte(key))
	return Trial{ID: hex.EncodeToString(sum[:8]), Params: params, Key: key, Steps: NoSteps}, nil
}
