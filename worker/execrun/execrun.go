// Package execrun runs the trials of exec sweeps: an outside program per
// trial, on a worker started with --allow-exec. It is a leaf of the worker:
// it knows the engine's result type and the template syntax, nothing of gRPC.
//
// # The program's side
//
// The program gets its parameters through its command template ({name},
// package placeholder) and the environment: EOSWEEP_TRIAL_ID,
// EOSWEEP_SWEEP_ID, EOSWEEP_PARAM_<NAME> for every parameter and
// EOSWEEP_RESULT, a file it may write its result to. It inherits the
// worker's environment without any EOSWEEP_* variable (the worker's token
// and coordinator stay out of reach of the environment), plus the spec's
// env. Stdin is empty.
//
// Its result is one JSON object: the file $EOSWEEP_RESULT when the program
// wrote it, else the last non-empty line of stdout that is not a progress
// line. Numeric fields named as engine.Result's (final_bias, test_acc, …) set
// those fields, booleans diverged, dead and bias_negative too; any other
// numeric field is a metric (engine.Result.Metrics); other values are
// ignored. "trajectory" may hold a list of {step, loss, bias, sharpness}
// points, downsampled to engine.MaxTrajectory. Lines "EOSWEEP_PROGRESS
// {json}" on stdout are points too: each is passed to Trial.Progress as it
// arrives, and they are the trajectory of a result that has none. wall_ms
// defaults to the measured run time.
//
// # Processes
//
// Each trial runs in its own process group. When the context ends (lease
// lost, sweep cancelled, worker draining) or the trial's timeout passes, the
// group gets SIGTERM and, after Runner.Grace, SIGKILL; when the program exits
// by itself, whatever it left in its group is killed. A process that leaves
// the group (setsid) is out of reach. Output is read as it comes and never
// kept whole: memory per trial is bounded by MaxLine and the stderr tail,
// whatever the program prints.
//
// A non-zero exit, a signal, a timeout, or no parsable result fails the
// attempt with an error naming the cause, with the last StderrTail bytes of
// stderr.
package execrun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/placeholder"
)

// Bounds of what a program's output may make the worker hold.
const (
	// MaxLine is the longest stdout line kept (a result or progress line);
	// longer lines are skipped.
	MaxLine = 1 << 20
	// MaxResultFile is the largest $EOSWEEP_RESULT file read.
	MaxResultFile = 1 << 20
	// StderrTail is how much of the end of stderr an error carries.
	StderrTail = 4096
	// DefaultGrace is the pause between SIGTERM and SIGKILL.
	DefaultGrace = 5 * time.Second
)

// ProgressPrefix starts a progress line on stdout.
const ProgressPrefix = "EOSWEEP_PROGRESS "

// Sentinel errors.
var (
	// ErrNotAllowed: the program is not one of Runner.Allow.
	ErrNotAllowed = errors.New("program not allowed on this worker")
	// ErrTimeout: the trial ran past its timeout and was killed.
	ErrTimeout = errors.New("trial timed out")
	// ErrFailed: the program exited non-zero or was killed by a signal.
	ErrFailed = errors.New("program failed")
	// ErrNoResult: the program exited 0 without a parsable result.
	ErrNoResult = errors.New("no result")
)

// Trial is one exec trial as leased: the spec's exec block and the trial's
// parameters.
type Trial struct {
	Sweep, ID string
	// Command is the command template (the spec's exec.command).
	Command []string
	Env     map[string]string
	// Workdir is where the program runs ("" = the worker's directory).
	Workdir string
	// Timeout bounds the run (≤ 0: none but the context's).
	Timeout time.Duration
	Params  map[string]float64
	// Progress, if set, gets every progress point as it is read.
	Progress func(engine.Point)
}

// Runner runs exec trials.
type Runner struct {
	// Allow, when not empty, lists the programs the worker runs (paths, or
	// names looked up in PATH, as given to --exec-allow): a trial whose
	// command[0] resolves to another file is refused with ErrNotAllowed.
	Allow []string
	// Grace is the pause between SIGTERM and SIGKILL (default DefaultGrace).
	Grace time.Duration
	// Logger receives a line per program started; nil discards.
	Logger *slog.Logger

	allowed map[string]bool // resolved Allow, set by New
}

// New returns a runner allowing the given programs (none: any program),
// resolving each now: a name without a slash is looked up in PATH, a path is
// made absolute, and symbolic links are followed. It fails for a program that
// does not exist, so that a typo in --exec-allow stops the worker at start.
func New(allow []string, grace time.Duration, logger *slog.Logger) (*Runner, error) {
	r := &Runner{Allow: allow, Grace: grace, Logger: logger, allowed: map[string]bool{}}
	for _, a := range allow {
		p, err := resolve(a, "")
		if err != nil {
			return nil, fmt.Errorf("exec-allow %q: %w", a, err)
		}
		r.allowed[p] = true
	}
	if r.Grace <= 0 {
		r.Grace = DefaultGrace
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// resolve finds the file a program names, as exec would run it: a name
// without a slash in PATH, a relative path under dir; symbolic links followed.
func resolve(prog, dir string) (string, error) {
	p := prog
	if !strings.Contains(prog, "/") {
		lp, err := exec.LookPath(prog)
		if err != nil {
			return "", err
		}
		p = lp
	} else if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	return abs, nil
}

// Run runs one trial and returns its result. The error says why there is
// none: ErrNotAllowed, ErrTimeout, ErrFailed, ErrNoResult (each with the
// stderr tail where the program ran), or the context's error (wrapped) when
// the context ended first.
func (r *Runner) Run(ctx context.Context, t Trial) (engine.Result, error) {
	argv, err := placeholder.ExpandAll(t.Command, t.Params)
	if err != nil {
		return engine.Result{}, err
	}
	if len(argv) == 0 || argv[0] == "" {
		return engine.Result{}, fmt.Errorf("command: empty")
	}
	if len(r.allowed) > 0 {
		p, err := resolve(argv[0], t.Workdir)
		if err != nil || !r.allowed[p] {
			return engine.Result{}, fmt.Errorf("%w: %q (%s) is not one of --exec-allow %s", ErrNotAllowed, argv[0], p,
				strings.Join(r.Allow, ","))
		}
	}
	dir, err := os.MkdirTemp("", "eosweep-trial-")
	if err != nil {
		return engine.Result{}, fmt.Errorf("trial directory: %w", err)
	}
	defer os.RemoveAll(dir)
	resultPath := filepath.Join(dir, "result.json")

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = t.Workdir
	cmd.Env = environ(t, resultPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outR, outW, err := os.Pipe()
	if err != nil {
		return engine.Result{}, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return engine.Result{}, fmt.Errorf("stderr pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	start := time.Now()
	err = cmd.Start()
	outW.Close() // the child holds its own copies
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return engine.Result{}, fmt.Errorf("%w: start %q: %w", ErrFailed, argv[0], err)
	}
	pgid := cmd.Process.Pid
	r.Logger.Info("exec trial started", "sweep", t.Sweep, "trial", t.ID, "pid", pgid, "command", argv)

	stdout := make(chan stdoutScan, 1)
	go func() { stdout <- scanStdout(outR, t.Progress) }()
	tail := &tailBuffer{max: StderrTail}
	stderrDone := make(chan struct{})
	go func() { defer close(stderrDone); _, _ = io.Copy(tail, errR) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var timeout <-chan time.Time
	if t.Timeout > 0 {
		timer := time.NewTimer(t.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var waitErr, stopped error
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		stopped = fmt.Errorf("stopped: %w", context.Cause(ctx))
		waitErr = r.terminate(pgid, exited)
	case <-timeout:
		stopped = fmt.Errorf("%w after %v (killed)", ErrTimeout, t.Timeout)
		waitErr = r.terminate(pgid, exited)
	}
	// Whatever the program left in its group goes with it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	// The readers end when the last holder of the pipes is gone; a process
	// that escaped the group could hold them forever, so they get a bound.
	var out stdoutScan
	readers := make(chan struct{})
	go func() { out = <-stdout; <-stderrDone; close(readers) }()
	drain := time.NewTimer(r.Grace)
	defer drain.Stop()
	select {
	case <-readers:
	case <-drain.C:
		r.Logger.Warn("exec trial: a process outside the trial's group holds its output; not read further",
			"sweep", t.Sweep, "trial", t.ID)
		outR.Close()
		errR.Close()
		<-readers
	}
	outR.Close()
	errR.Close()
	wall := time.Since(start)
	if out.badLines > 0 {
		r.Logger.Warn("exec trial: progress lines not understood", "sweep", t.Sweep, "trial", t.ID,
			"lines", out.badLines, "first", out.firstBad)
	}

	if stopped != nil {
		if errors.Is(stopped, ErrTimeout) {
			return engine.Result{}, withTail(stopped, tail)
		}
		return engine.Result{}, stopped
	}
	if waitErr != nil {
		return engine.Result{}, withTail(fmt.Errorf("%w: %w", ErrFailed, describeExit(waitErr)), tail)
	}
	res, err := r.result(resultPath, out)
	if err != nil {
		return engine.Result{}, withTail(err, tail)
	}
	if _, ok := res.wallSet(); !ok {
		res.WallMS = float64(wall.Microseconds()) / 1000
	}
	return res.Result, nil
}

// terminate sends the group SIGTERM, waits up to Grace for the program to
// exit, then sends SIGKILL, and returns the program's exit.
func (r *Runner) terminate(pgid int, exited <-chan error) error {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	grace := time.NewTimer(r.Grace)
	defer grace.Stop()
	select {
	case err := <-exited:
		return err
	case <-grace.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return <-exited
	}
}

// environ is the program's environment: the worker's without EOSWEEP_*, the
// spec's env, then the trial's variables.
func environ(t Trial, resultPath string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EOSWEEP_") {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.Env)) {
		env = append(env, k+"="+t.Env[k])
	}
	env = append(env, "EOSWEEP_TRIAL_ID="+t.ID, "EOSWEEP_SWEEP_ID="+t.Sweep, "EOSWEEP_RESULT="+resultPath)
	for _, k := range slices.Sorted(maps.Keys(t.Params)) {
		env = append(env, "EOSWEEP_PARAM_"+strings.ToUpper(k)+"="+placeholder.Format(t.Params[k]))
	}
	return env
}

// describeExit says how a program ended: "exit status 3", "killed by signal
// segmentation fault".
func describeExit(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
		}
		return fmt.Errorf("exit status %d", ee.ExitCode())
	}
	return err
}

func withTail(err error, tail *tailBuffer) error {
	if tail.Len() == 0 {
		return fmt.Errorf("%w; stderr empty", err)
	}
	what := "stderr"
	if tail.cut {
		what = fmt.Sprintf("stderr, last %d bytes", tail.Len())
	}
	return fmt.Errorf("%w; %s:\n%s", err, what, strings.TrimRight(tail.String(), "\n"))
}

// tailBuffer keeps the last max bytes written to it. (It holds its buffer
// rather than embedding it: an embedded bytes.Buffer's ReadFrom would let
// io.Copy bypass Write.)
type tailBuffer struct {
	buf bytes.Buffer
	max int
	cut bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= b.max {
		b.buf.Reset()
		b.cut = true
		b.buf.Write(p[len(p)-b.max:])
		return n, nil
	}
	if over := b.buf.Len() + len(p) - b.max; over > 0 {
		rest := append([]byte(nil), b.buf.Bytes()[over:]...)
		b.buf.Reset()
		b.buf.Write(rest)
		b.cut = true
	}
	b.buf.Write(p)
	return n, nil
}

func (b *tailBuffer) Len() int       { return b.buf.Len() }
func (b *tailBuffer) String() string { return b.buf.String() }

// stdoutScan is what was read of a program's stdout: its last result
// candidate and its progress points.
type stdoutScan struct {
	last     []byte // last non-empty, non-progress line (nil if none)
	lastLong bool   // the last such line was longer than MaxLine
	progress []engine.Point
	badLines int // progress lines that did not parse
	firstBad string
}

// scanStdout reads stdout line by line, holding at most MaxLine bytes of a
// line: the last candidate line is kept, progress lines are parsed and
// passed on.
func scanStdout(r io.Reader, onProgress func(engine.Point)) stdoutScan {
	var s stdoutScan
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	long := false
	flush := func() {
		text := bytes.TrimSpace(line)
		switch {
		case long:
			s.last, s.lastLong = nil, true
		case len(text) == 0:
		case bytes.HasPrefix(text, []byte(ProgressPrefix)):
			p, err := parsePoint(bytes.TrimPrefix(text, []byte(ProgressPrefix)))
			if err != nil {
				if s.badLines == 0 {
					s.firstBad = err.Error()
				}
				s.badLines++
				break
			}
			s.progress = append(s.progress, p)
			s.progress = downsample(s.progress, 4*engine.MaxTrajectory)
			if onProgress != nil {
				onProgress(p)
			}
		default:
			s.last, s.lastLong = append(s.last[:0], text...), false
		}
		line, long = line[:0], false
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(line)+len(chunk) > MaxLine {
				long, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(chunk) > 0 || len(line) > 0 || long {
			flush()
		}
		if err != nil {
			return s
		}
	}
}

// downsample keeps at most n points of pts when it holds more than 2n: the
// first, the last and evenly spaced ones between (progress is thinned as it
// comes, so that a chatty program cannot grow it without bound).
func downsample(pts []engine.Point, n int) []engine.Point {
	if len(pts) <= 2*n {
		return pts
	}
	return thin(pts, n)
}

// thin returns n points of pts (n ≥ 2): the first, the last and evenly
// spaced ones between.
func thin(pts []engine.Point, n int) []engine.Point {
	if len(pts) <= n {
		return pts
	}
	out := make([]engine.Point, n)
	for i := range out {
		out[i] = pts[i*(len(pts)-1)/(n-1)]
	}
	return out
}
