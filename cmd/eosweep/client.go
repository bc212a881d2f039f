package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/boundary/boundarypb"
	"github.com/eosweep/eosweep/coordinator/finished"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/spec"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// source is where client commands read sweeps from: a coordinator over gRPC
// (--coordinator) or a store file read directly (--db).
type source interface {
	Sweeps(ctx context.Context) ([]*pb.Sweep, error)
	Sweep(ctx context.Context, id string) (*pb.Sweep, error)
	Boundary(ctx context.Context, id string) ([]boundary.Group, error)
	Finished(ctx context.Context, id string) (sweepTrials, error)
	// Trials calls start with the sweep (its spec included), then fn with
	// each of its trials in Seq order, a page at a time; a source may leave
	// out trials in states not in want (nil: every state), or give them all.
	Trials(ctx context.Context, id string, want map[store.TrialState]bool, start func(*pb.Sweep) error, fn func(trialInfo) error) error
	// Watch calls show with the sweep (its full id) at every change until
	// it leaves RUNNING (show's error stops it).
	Watch(ctx context.Context, id string, show func(*pb.Sweep) error) error
	Close() error
}

// sourceFlags are the flags naming a client command's source: --coordinator
// with the client transport flags, or --db.
type sourceFlags struct {
	coord dialFlags
	db    string
}

func (s *sourceFlags) bind(f *pflag.FlagSet) {
	s.coord.bind(f, defaultCoordinator, "coordinator address HOST:PORT") // security.go
	f.StringVar(&s.db, "db", "", "read this store file directly (a stopped coordinator's or an embedded run's)")
}

// open opens the source the flags name: the store file with --db, else the
// coordinator (--coordinator, $EOSWEEP_COORDINATOR or the default).
func (s *sourceFlags) open() (source, error) {
	if s.db == "" {
		return s.coord.remote()
	}
	if s.coord.given() {
		return nil, errors.New("flags --coordinator and --db: give one, not both")
	}
	st, err := store.Open(s.db, store.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("%w (if a coordinator runs on it, use --coordinator)", err)
	}
	return &local{st: st}, nil
}

// withFinished reads a sweep's finished trials from the source the flags
// name and calls fn with them while the source is open (their trajectories
// are read from it as fn writes them).
func (s *sourceFlags) withFinished(ctx context.Context, id string, fn func(sweepTrials) error) error {
	src, err := s.open()
	if err != nil {
		return err
	}
	defer src.Close()
	data, err := src.Finished(ctx, id)
	if err != nil {
		return err
	}
	return fn(data)
}

// resolveID finds the sweep whose id is, or starts with, prefix, or else
// the one sweep of that name.
func resolveID(sweeps []*pb.Sweep, prefix string) (string, error) {
	var match, named []string
	for _, s := range sweeps {
		if s.GetId() == prefix {
			return prefix, nil
		}
		if strings.HasPrefix(s.GetId(), prefix) {
			match = append(match, s.GetId())
		}
		if s.GetName() == prefix && prefix != "" {
			named = append(named, s.GetId())
		}
	}
	if len(match) == 0 {
		match = named
	}
	switch len(match) {
	case 0:
		return "", fmt.Errorf("sweep %q: %w", prefix, scheduler.ErrUnknownSweep)
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("sweep %q: ambiguous prefix (%s)", prefix, strings.Join(match, ", "))
}

// remote reads from a coordinator.
type remote struct {
	conn *grpc.ClientConn
	cl   pb.CoordinatorServiceClient
}

func (r *remote) Close() error { return r.conn.Close() }

// remote dials the coordinator the flags name; the caller closes it.
func (d *dialFlags) remote() (*remote, error) {
	conn, err := d.dial()
	if err != nil {
		return nil, err
	}
	return &remote{conn: conn, cl: pb.NewCoordinatorServiceClient(conn)}, nil
}

// Sweeps reads every sweep, page by page (the coordinator bounds each page
// by bytes; an older one sends every sweep in one message).
func (r *remote) Sweeps(ctx context.Context) ([]*pb.Sweep, error) {
	var out []*pb.Sweep
	token := ""
	for {
		resp, err := r.cl.ListSweeps(ctx, &pb.ListSweepsRequest{PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list sweeps: %w", err)
		}
		out = append(out, resp.GetSweeps()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

func (r *remote) id(ctx context.Context, prefix string) (string, error) {
	sweeps, err := r.Sweeps(ctx)
	if err != nil {
		return "", err
	}
	return resolveID(sweeps, prefix)
}

// Sweep returns the sweep the prefix names, without its spec.
func (r *remote) Sweep(ctx context.Context, prefix string) (*pb.Sweep, error) {
	return r.sweep(ctx, prefix, false)
}

// sweepSpec is Sweep with the sweep's spec (GetSweep with include_spec; an
// older coordinator sends the spec anyway).
func (r *remote) sweepSpec(ctx context.Context, prefix string) (*pb.Sweep, error) {
	return r.sweep(ctx, prefix, true)
}

// sweep asks for the sweep of id prefix at once, and else resolves the
// prefix (or name) over every sweep's id first.
func (r *remote) sweep(ctx context.Context, prefix string, withSpec bool) (*pb.Sweep, error) {
	if resp, err := r.cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: prefix, IncludeSpec: withSpec}); err == nil {
		return resp.GetSweep(), nil
	}
	id, err := r.id(ctx, prefix)
	if err != nil {
		return nil, err
	}
	resp, err := r.cl.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id, IncludeSpec: withSpec})
	if err != nil {
		return nil, fmt.Errorf("get sweep: %w", err)
	}
	return resp.GetSweep(), nil
}

func (r *remote) Boundary(ctx context.Context, prefix string) ([]boundary.Group, error) {
	id, err := r.id(ctx, prefix)
	if err != nil {
		return nil, err
	}
	resp, err := r.cl.GetBoundary(ctx, &pb.GetBoundaryRequest{SweepId: id})
	if err != nil {
		return nil, fmt.Errorf("boundary: %w", err)
	}
	groups := make([]boundary.Group, len(resp.GetGroups()))
	for i, g := range resp.GetGroups() {
		groups[i] = boundarypb.GroupFromProto(g)
	}
	return groups, nil
}

// Finished reads the sweep's trials page by page, keeping of each result
// its summary (store.Summary): the trajectories are read again, a page at a
// time, as the report writes them (trajectories).
func (r *remote) Finished(ctx context.Context, prefix string) (sweepTrials, error) {
	sw, err := r.sweepSpec(ctx, prefix)
	if err != nil {
		return sweepTrials{}, err
	}
	sp, err := spec.ParseStored([]byte(sw.GetSpecYaml()))
	if err != nil {
		return sweepTrials{}, fmt.Errorf("sweep %s: stored spec: %w", sw.GetId(), err)
	}
	out := sweepTrials{Analyses: sp.Analyses()}
	err = r.eachTrial(ctx, &pb.ListTrialsRequest{SweepId: sw.GetId(), OmitTrajectories: true}, func(_ *pb.Trial, t store.Trial, res *engine.Result) error {
		if res != nil { // an older coordinator sends the trajectories
			*res = store.Summary(*res)
		}
		out.Add(t, res)
		return nil
	})
	if err != nil {
		return sweepTrials{}, err
	}
	out.Trajectories = func(fn func(string, []engine.Point) error) error {
		return r.trajectories(ctx, sw.GetId(), fn)
	}
	return out, nil
}

// trajectories calls fn with each finished trial of the sweep (its full id)
// and its trajectory, a page of them at a time.
func (r *remote) trajectories(ctx context.Context, id string, fn func(string, []engine.Point) error) error {
	req := &pb.ListTrialsRequest{SweepId: id, States: []pb.TrialState{pb.TrialState_TRIAL_STATE_DONE}}
	return r.eachTrial(ctx, req, func(_ *pb.Trial, t store.Trial, res *engine.Result) error {
		if !finished.Is(t, res) { // an older coordinator sends every state
			return nil
		}
		return fn(t.ID, res.Trajectory)
	})
}

// eachTrial calls fn with each trial ListTrials gives for req (its sweep's
// full id, its states and omit_trajectories; an older coordinator sends every
// state, whole): its message, record and result (nil: none), page by page:
// nothing is held but one page.
func (r *remote) eachTrial(ctx context.Context, req *pb.ListTrialsRequest, fn func(*pb.Trial, store.Trial, *engine.Result) error) error {
	req = proto.CloneOf(req)
	for {
		resp, err := r.cl.ListTrials(ctx, req)
		if err != nil {
			return fmt.Errorf("list trials: %w", err)
		}
		for _, t := range resp.GetTrials() {
			rec, res, err := coordinator.TrialFromProto(t)
			if err != nil {
				return err
			}
			if err := fn(t, rec, res); err != nil {
				return err
			}
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return nil
		}
	}
}

func (r *remote) Trials(ctx context.Context, prefix string, want map[store.TrialState]bool, start func(*pb.Sweep) error, fn func(trialInfo) error) error {
	sw, err := r.sweepSpec(ctx, prefix) // the trials command reads the grid's axes off the spec
	if err != nil {
		return err
	}
	if err := start(sw); err != nil {
		return err
	}
	var states []pb.TrialState // the coordinator filters (an older one sends all: the command filters again)
	for st := range want {
		states = append(states, pb.TrialState(st))
	}
	req := &pb.ListTrialsRequest{SweepId: sw.GetId(), States: states, OmitTrajectories: true} // the records only are used
	return r.eachTrial(ctx, req, func(t *pb.Trial, rec store.Trial, _ *engine.Result) error {
		if d := t.GetDeadline(); d != nil {
			rec.Deadline = d.AsTime()
		}
		return fn(trialInfo{Trial: rec, Worker: t.GetWorkerId()})
	})
}

func (r *remote) Watch(ctx context.Context, id string, show func(*pb.Sweep) error) error {
	stream, err := r.cl.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: id})
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	var last *pb.Sweep
	for {
		msg, err := stream.Recv()
		if err != nil {
			if last != nil && last.GetState() != pb.SweepState_SWEEP_STATE_RUNNING {
				return nil
			}
			return fmt.Errorf("watch: %w", err)
		}
		last = msg.GetSweep()
		if err := show(last); err != nil {
			return err
		}
	}
}

// local reads a store file directly (read-only).
type local struct{ st *store.Store }

func (l *local) Close() error { return l.st.Close() }

func (l *local) Sweeps(context.Context) ([]*pb.Sweep, error) {
	recs, err := l.st.Sweeps()
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Sweep, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- { // newest first, as the coordinator lists them
		sw, err := l.sweep(recs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, sw)
	}
	return out, nil
}

func (l *local) sweep(rec store.Sweep) (*pb.Sweep, error) {
	sp, err := spec.ParseStored([]byte(rec.SpecYAML))
	if err != nil {
		return nil, fmt.Errorf("sweep %s: stored spec: %w", rec.ID, err)
	}
	var p scheduler.Progress
	err = l.st.EachTrialHead(rec.ID, func(t store.Trial) error { // the states only, one record at a time
		p.Count(t.State)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return coordinator.SweepWithSpec(scheduler.SweepInfo{Sweep: rec, Spec: sp, Progress: p}), nil
}

func (l *local) Sweep(ctx context.Context, prefix string) (*pb.Sweep, error) {
	sweeps, err := l.Sweeps(ctx)
	if err != nil {
		return nil, err
	}
	id, err := resolveID(sweeps, prefix)
	if err != nil {
		return nil, err
	}
	for _, s := range sweeps {
		if s.GetId() == id {
			return s, nil
		}
	}
	return nil, fmt.Errorf("sweep %q: %w", id, scheduler.ErrUnknownSweep)
}

// load reads a sweep's spec and trials (finished.Read, as the coordinator's
// GetBoundary does).
func (l *local) load(ctx context.Context, prefix string) (string, *spec.Spec, finished.Set, error) {
	sw, err := l.Sweep(ctx, prefix)
	if err != nil {
		return "", nil, finished.Set{}, err
	}
	sp, err := spec.ParseStored([]byte(sw.GetSpecYaml()))
	if err != nil {
		return "", nil, finished.Set{}, err
	}
	set, err := finished.Read(l.st, sw.GetId())
	return sw.GetId(), sp, set, err
}

func (l *local) Boundary(ctx context.Context, prefix string) ([]boundary.Group, error) {
	_, sp, set, err := l.load(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return finished.Boundaries(sp, set)
}

// localTrialsPage is how many trial records local.Trials reads at a time.
const localTrialsPage = 1000

func (l *local) Trials(ctx context.Context, prefix string, _ map[store.TrialState]bool, start func(*pb.Sweep) error, fn func(trialInfo) error) error {
	sw, err := l.Sweep(ctx, prefix)
	if err != nil {
		return err
	}
	if err := start(sw); err != nil {
		return err
	}
	for from := 0; ; {
		page, err := l.st.TrialRange(sw.GetId(), from, localTrialsPage)
		if err != nil {
			return err
		}
		for _, t := range page {
			if err := fn(trialInfo{Trial: t}); err != nil {
				return err
			}
		}
		if len(page) < localTrialsPage {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

func (l *local) Watch(context.Context, string, func(*pb.Sweep) error) error {
	return errors.New("flag --watch: needs --coordinator (a store file is read as it is; while a coordinator runs on it, ask the coordinator)")
}

// Finished reads the sweep's trials with their results' summaries
// (finished.Read); the trajectories are read again, one at a time, as the
// report writes them (finished.EachTrajectory).
func (l *local) Finished(ctx context.Context, prefix string) (sweepTrials, error) {
	id, sp, set, err := l.load(ctx, prefix)
	if err != nil {
		return sweepTrials{}, err
	}
	return sweepTrials{Analyses: sp.Analyses(), Set: set, Trajectories: func(fn func(string, []engine.Point) error) error {
		return finished.EachTrajectory(l.st, id, fn)
	}}, nil
}
