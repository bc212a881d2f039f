// Package spec parses and validates sweep specs (the README's "Sweep specs") and expands them
// into trials with stable identities.
//
// # Basics
//
// A spec names a model, grid axes (any model parameter: a list, linspace,
// logspace or range), fixed params and boundary options. Parse rejects a bad
// spec with a message naming the field, and bounds it before allocating: the
// text (MaxSpecBytes), each axis (MaxAxisValues and the trial limit) and the
// grid's size. Size counts the grid's trials; Each expands them one by one,
// in constant memory, stopping when its context is done; At gives one by its
// ordinal and Trials collects them all (for small grids). Every trial's
// ID is a hash of its resolved engine configuration, and the sweep's ID is a
// hash of the canonical spec, so submitting the same spec twice names the same
// sweep and the same trials. Analysis gives the options of the sweep's
// boundary analysis.
package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/engine"
)

// DefaultMaxTrials is the grid size refused by default.
const DefaultMaxTrials = 100_000

// MaxSpecBytes bounds the spec text Parse reads (256 KiB).
const MaxSpecBytes = 256 << 10

// MaxAxisValues bounds one grid axis, whatever the trial limit: the axes'
// values are held in memory (the grid's points never are).
const MaxAxisValues = 1_000_000

// FullCheckPoints is the largest grid whose every point Parse resolves (see
// Parse for what it checks of a larger one).
const FullCheckPoints = 10_000

// MaxRefineRounds bounds boundary.refine.rounds.
const MaxRefineRounds = 32

// ErrInvalid is wrapped by every validation error of Parse.
var ErrInvalid = errors.New("invalid sweep spec")

// Spec is a parsed, validated sweep spec.
type Spec struct {
	Name     string
	Model    string
	Grid     []Axis             // sorted by Name
	Params   map[string]float64 // fixed parameters
	Boundary Boundary
	// Exec is the program of a model exec sweep (exec.go); nil otherwise.
	Exec *Exec
	// Priority is the sweep's share of the workers against the other
	// running sweeps, in [1, MaxPriority] (default 1): in each round of the
	// scheduler's round robin the sweep gets up to Priority trials. It is
	// not part of the sweep's identity (ID).
	Priority int
	// YAML is the text the spec was parsed from.
	YAML string

	points [][]float64 // per axis of Grid: its distinct values, first occurrences in order
}

// Axis is one grid axis with its expanded values, in the order given. A value
// given twice names one grid point (it is expanded once).
type Axis struct {
	Name   string
	Values []float64
}

// Boundary holds the analysis options of a spec.
type Boundary struct {
	BiasEps      float64 // 0: the model's default bias_eps
	ReferenceEta float64 // 0: each group's smallest η
	Refine       Refine
	// Metrics are the order parameters analysed (metric.go); empty means
	// the default, final_bias dropping against its plateau.
	Metrics []Metric `json:",omitempty"`
}

// Refine configures adaptive refinement in log η.
type Refine struct {
	Rounds    int
	Tolerance float64
}

// Trial is one expanded grid point.
type Trial struct {
	ID     string
	Params map[string]float64 // input parameters: spec params plus the grid point
	Config engine.Config      // resolved; zero for an exec trial
	// Key is the canonical text the ID hashes (engine.Config.Key, or the
	// exec command template and parameters).
	Key string
	// Steps is the resolved step count a result is checked against, or
	// NoSteps for an exec trial (its program decides).
	Steps int
}

// MaxPriority bounds a spec's priority.
const MaxPriority = 100

type rawSpec struct {
	Name     string               `yaml:"name"`
	Model    string               `yaml:"model"`
	Grid     map[string]yaml.Node `yaml:"grid"`
	Params   map[string]float64   `yaml:"params"`
	Boundary *rawBoundary         `yaml:"boundary"`
	Exec     *rawExec             `yaml:"exec"`
	Priority yaml.Node            `yaml:"priority"`
}

type rawBoundary struct {
	BiasEps      *float64   `yaml:"bias_eps"`
	ReferenceEta *float64   `yaml:"reference_eta"`
	Refine       *rawRefine `yaml:"refine"`
	rawMetrics   `yaml:",inline"`
}

type rawRefine struct {
	Rounds    int     `yaml:"rounds"`
	Tolerance float64 `yaml:"tolerance"`
}

// Parse decodes and validates a YAML spec submitted for a new sweep: a text
// of at most MaxSpecBytes, a grid of at most maxTrials points (≤ 0 means
// DefaultMaxTrials), each axis at most min(maxTrials, MaxAxisValues) values.
// Every axis's length is known before its values are allocated, and a grid
// too large is refused with its size before anything is expanded. Errors
// wrap ErrInvalid and name the field.
//
// A spec that parses runs: a grid of at most FullCheckPoints points has every
// point resolved with engine.Resolve; a larger one has every value of every
// axis resolved (the other axes at their first value) and, for every pair of
// axes, the four corners of their smallest and largest values (the engine's
// only constraint between parameters, horizon/eta ≤ the step limit, is
// monotone in each, so the corners find it). Each resolves every point again
// as it expands; a submit that writes the trials it yields therefore stores
// only runnable trials.
func Parse(data []byte, maxTrials int) (*Spec, error) {
	if maxTrials <= 0 {
		maxTrials = DefaultMaxTrials
	}
	if len(data) > MaxSpecBytes {
		return nil, fmt.Errorf("%w: spec: %s (%s bytes); the limit is 256 KiB (%s bytes)",
			ErrInvalid, byteSize(len(data)), commas(int64(len(data))), commas(MaxSpecBytes))
	}
	return parse(data, newAxisLimit(maxTrials), maxTrials, true)
}

// ParseStored re-reads the spec of a stored sweep, which Parse accepted when
// it was submitted (perhaps by an older eosweep, or with a higher limit):
// the text, trial and axis limits are submit-time policy and are not applied
// again, so a store keeps opening whatever its sweeps' sizes. It validates
// the spec as Parse does but for resolving its grid's points, which were
// resolved when the trials were written (and are again wherever a stored
// trial's parameters are resolved): a restart need not resolve thousands of
// points per sweep.
func ParseStored(data []byte) (*Spec, error) {
	return parse(data, axisLimit{n: maxStoredAxisValues}, math.MaxInt, false)
}

// maxStoredAxisValues bounds an axis of a stored spec (8 bytes a value) only
// as a guard against a damaged record: no eosweep accepted one this long.
const maxStoredAxisValues = 1 << 27

func parse(data []byte, lim axisLimit, maxTrials int, resolvePoints bool) (*Spec, error) {
	var raw rawSpec
	if err := decode(data, &raw); err != nil { // decode.go
		return nil, err
	}
	s := &Spec{Name: raw.Name, Model: raw.Model, Params: raw.Params, YAML: string(data)}
	if s.Params == nil {
		s.Params = map[string]float64{}
	}
	if engine.ParamNames(s.Model) == nil && s.Model != engine.ModelExec {
		_, err := engine.Resolve(s.Model, nil)
		return nil, fmt.Errorf("%w: model: %w (or %s, a program of your own)", ErrInvalid, err, engine.ModelExec)
	}
	if err := checkNames(s.Model, "params", s.Params); err != nil {
		return nil, err
	}
	if len(raw.Grid) == 0 {
		return nil, fmt.Errorf("%w: grid: empty (give at least one axis, e.g. eta)", ErrInvalid)
	}
	size := big.NewInt(1)
	for _, name := range sortedNodeKeys(raw.Grid) {
		if err := checkName(s.Model, "grid", name); err != nil {
			return nil, err
		}
		if _, dup := s.Params[name]; dup {
			return nil, fmt.Errorf("%w: grid.%s: also set in params (give it in one place)", ErrInvalid, name)
		}
		node := raw.Grid[name]
		vals, err := axisValues(&node, lim)
		if err != nil {
			return nil, fmt.Errorf("%w: grid.%s: %w", ErrInvalid, name, err)
		}
		s.Grid = append(s.Grid, Axis{Name: name, Values: vals})
		pts := distinct(vals)
		s.points = append(s.points, pts)
		size.Mul(size, big.NewInt(int64(len(pts))))
	}
	if size.Cmp(big.NewInt(int64(maxTrials))) > 0 {
		return nil, fmt.Errorf("%w: grid: has %s trials; the limit is %s (raise it with --max-trials)",
			ErrInvalid, commab(size), commas(int64(maxTrials)))
	}
	if err := s.parseExec(raw.Exec); err != nil {
		return nil, err
	}
	priority, err := parsePriority(&raw.Priority)
	if err != nil {
		return nil, err
	}
	s.Priority = priority
	if err := s.parseBoundary(raw.Boundary); err != nil {
		return nil, err
	}
	if !resolvePoints {
		return s, nil
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// parsePriority reads the spec's priority: an integer in [1, MaxPriority],
// 1 when absent.
func parsePriority(n *yaml.Node) (int, error) {
	if n.Kind == 0 { // absent
		return 1, nil
	}
	var v float64
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil || v != math.Trunc(v) || v < 1 || v > MaxPriority {
		return 0, fmt.Errorf("%w: line %d: priority: %.40q must be an integer in [1, %d] (the sweep's share of the workers; default 1)",
			ErrInvalid, n.Line, n.Value, MaxPriority)
	}
	return int(v), nil
}

func (s *Spec) parseBoundary(b *rawBoundary) error {
	if b == nil {
		return nil
	}
	if b.BiasEps != nil {
		if v := *b.BiasEps; !finite(v) || v < 0 {
			return fmt.Errorf("%w: boundary.bias_eps: %v must be a finite number >= 0", ErrInvalid, v)
		}
		s.Boundary.BiasEps = *b.BiasEps
	}
	if b.ReferenceEta != nil {
		if v := *b.ReferenceEta; !finite(v) || v <= 0 {
			return fmt.Errorf("%w: boundary.reference_eta: %v must be a finite number > 0", ErrInvalid, v)
		}
		s.Boundary.ReferenceEta = *b.ReferenceEta
	}
	if r := b.Refine; r != nil {
		if r.Rounds < 0 || r.Rounds > MaxRefineRounds {
			return fmt.Errorf("%w: boundary.refine.rounds: %d must be in [0, %d]", ErrInvalid, r.Rounds, MaxRefineRounds)
		}
		if r.Rounds > 0 && (!finite(r.Tolerance) || r.Tolerance <= 0) {
			return fmt.Errorf("%w: boundary.refine.tolerance: %v must be a finite number > 0", ErrInvalid, r.Tolerance)
		}
		s.Boundary.Refine = Refine{Rounds: r.Rounds, Tolerance: r.Tolerance}
	}
	return s.parseMetrics(&b.rawMetrics)
}

// NewTrial resolves input parameters into a trial with its ID.
func NewTrial(model string, params map[string]float64) (Trial, error) {
	cfg, err := engine.Resolve(model, params)
	if err != nil {
		return Trial{}, err
	}
	key := cfg.Key()
	return Trial{ID: keyID(key), Params: params, Config: cfg, Key: key, Steps: cfg.Steps}, nil
}

// NewTrial makes the trial of the sweep at the given input parameters: the
// package's NewTrial for the engine's models, an exec trial (exec.go) for
// model exec. Refinement adds its points through here.
func (s *Spec) NewTrial(params map[string]float64) (Trial, error) {
	if s.Exec != nil {
		return s.execTrial(params)
	}
	return NewTrial(s.Model, params)
}

// TrialID is the identity of a trial: a hex-truncated SHA-256 of cfg.Key().
func TrialID(cfg engine.Config) string { return keyID(cfg.Key()) }

// keyID is the trial id of a canonical key. It hashes the key from a
// buffer on the stack (a key of up to keyIDBuf bytes: every engine model's)
// and allocates only the id: a submit computes one per grid point.
func keyID(key string) string {
	var buf [keyIDBuf]byte
	sum := sha256.Sum256(append(buf[:0], key...))
	var id [16]byte
	hex.Encode(id[:], sum[:8])
	return string(id[:])
}

// keyIDBuf is the stack buffer keyID hashes a key from (a longer key is
// copied to the heap).
const keyIDBuf = 512

// GroupBy returns the grid axes that define a boundary group: all but eta and seed.
func (s *Spec) GroupBy() []string {
	var out []string
	for _, a := range s.Grid {
		if a.Name != "eta" && a.Name != "seed" {
			out = append(out, a.Name)
		}
	}
	return out
}

// BiasEps returns the bias_eps of the analysis: the spec's, else params.bias_eps,
// else the model's default.
func (s *Spec) BiasEps() float64 {
	if s.Boundary.BiasEps > 0 {
		return s.Boundary.BiasEps
	}
	if s.Model == engine.ModelExec { // params are the program's, not the analysis'
		return boundary.DefaultBiasEps
	}
	if v, ok := s.Params["bias_eps"]; ok {
		return v
	}
	v, _ := engine.Default(s.Model, "bias_eps")
	return v
}

// Analysis returns the options the spec's boundary analysis runs with: its
// model, GroupBy, BiasEps, boundary.reference_eta and its first metric
// (Analyses has one per metric). The coordinator's refinement and
// GetBoundary, the CLI's reports and in-process sweeps all take them from here.
func (s *Spec) Analysis() boundary.Options {
	return s.Analyses()[0]
}

type canonical struct {
	Name     string             `json:"name"`
	Model    string             `json:"model"`
	Grid     []Axis             `json:"grid"`
	Params   map[string]float64 `json:"params"`
	Boundary Boundary           `json:"boundary"`
	Exec     *Exec              `json:"exec,omitempty"`
}

// ID returns the sweep's identity: a hex-truncated SHA-256 of the canonical
// spec (expanded axes, sorted keys), independent of YAML formatting.
func (s *Spec) ID() string {
	data, err := json.Marshal(canonical{s.Name, s.Model, s.Grid, s.Params, s.Boundary, s.Exec})
	if err != nil {
		panic(fmt.Sprintf("spec: canonical form: %v", err)) // finite floats always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// checkNames refuses parameters the model does not take and non-finite values.
func checkNames(model, field string, params map[string]float64) error {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		if err := checkName(model, field, k); err != nil {
			return err
		}
		if !finite(v) {
			return fmt.Errorf("%w: %s.%s: %v is not a finite number", ErrInvalid, field, k, v)
		}
	}
	return nil
}

// checkName refuses a parameter name the model does not take: for model
// exec any engine.ValidName, else the model's parameters.
func checkName(model, field, name string) error {
	if model == engine.ModelExec {
		if !engine.ValidName(name) {
			return fmt.Errorf("%w: %s.%.80s: an exec parameter's name is [a-z_][a-z0-9_]* of at most %d bytes",
				ErrInvalid, field, name, engine.MaxMetricName)
		}
		return nil
	}
	if !slices.Contains(engine.ParamNames(model), name) {
		return unknownParam(field+"."+name, model)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func sortedNodeKeys(m map[string]yaml.Node) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
