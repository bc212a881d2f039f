"""The hand-written layer over the generated stubs: a Client whose answers are
pandas DataFrames named as eosweep's own files (trials.csv, boundary --format
csv)."""

import math

import grpc
import pandas as pd

from eosweep.v1 import coordinator_pb2 as pb
from eosweep.v1 import coordinator_pb2_grpc as pb_grpc

# Sweep states after which a sweep no longer changes by itself.
TERMINAL_SWEEP_STATES = frozenset({"done", "cancelled"})

# Trials per ListTrials page: each carries a trajectory of up to 256 points,
# so a page stays well under a megabyte.
_PAGE_SIZE = 100

# Largest answer accepted (gRPC's default is 4 MiB).
_MAX_MESSAGE = 64 << 20


def _enum_name(enum_type, value, prefix, dash=False):
    """An enum value as eosweep's CSV files spell it: prefix dropped, lower
    case ("TRIAL_STATE_DONE" -> "done"; with dash, "_" becomes "-")."""
    name = enum_type.Name(value)
    if name.endswith("_UNSPECIFIED"):
        return ""
    name = name[len(prefix):].lower()
    return name.replace("_", "-") if dash else name


def _result_fields():
    """The scalar fields of Result in declaration order: trials.csv's result
    columns (the trajectory is apart: Client.trajectories)."""
    fd = pb.Result.DESCRIPTOR
    return [f for f in fd.fields
            if f.label != f.LABEL_REPEATED and f.type != f.TYPE_MESSAGE
            and not f.GetOptions().deprecated]  # threshold_learned: read as bias_negative


class Client:
    """A connection to one eosweep coordinator.

    address is HOST:PORT. tls_ca (a PEM file) turns TLS on, trusting that CA;
    tls_server_name is the name expected in the coordinator's certificate
    (default: the host dialled). token is the shared bearer token; as with
    eosweep's own clients it is refused over plaintext unless insecure_token
    is set. timeout bounds each unary call, in seconds.
    """

    def __init__(self, address, token=None, tls_ca=None, tls_server_name=None,
                 insecure_token=False, timeout=60.0):
        if not address:
            raise ValueError("address: required (HOST:PORT)")
        options = [("grpc.max_receive_message_length", _MAX_MESSAGE)]
        if tls_server_name:
            options.append(("grpc.ssl_target_name_override", tls_server_name))
        if tls_ca:
            with open(tls_ca, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
            self._channel = grpc.secure_channel(address, creds, options=options)
        else:
            if token and not insecure_token:
                raise ValueError("token: a bearer token needs TLS (give tls_ca) "
                                 "or insecure_token=True (loopback or a private network only)")
            self._channel = grpc.insecure_channel(address, options=options)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._stub = pb_grpc.CoordinatorServiceStub(self._channel)
        self._timeout = timeout

    def close(self):
        """Closes the connection."""
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request):
        return method(request, timeout=self._timeout, metadata=self._metadata)

    # Sweeps.

    def submit(self, spec_text):
        """Submits a YAML sweep spec and returns the sweep id. Submitting the
        same spec again resumes that sweep (same id)."""
        resp = self._call(self._stub.SubmitSweep, pb.SubmitSweepRequest(spec_yaml=spec_text))
        return resp.sweep.id

    def sweep(self, sweep):
        """Returns one sweep (an eosweep.v1.Sweep message) with its progress."""
        return self._call(self._stub.GetSweep, pb.GetSweepRequest(sweep_id=sweep)).sweep

    def sweeps(self):
        """Returns every sweep, newest first, one row each: id, name, model,
        state, round, max_rounds, the trial counts per state, results per
        second, the ETA in seconds (NaN when unknown) and the creation time."""
        rows, token = [], ""
        while True:  # pages bounded by bytes; an older coordinator sends one page
            page = self._call(self._stub.ListSweeps, pb.ListSweepsRequest(page_token=token))
            rows.extend(_sweep_row(s) for s in page.sweeps)
            token = page.next_page_token
            if not token:
                return pd.DataFrame(rows, columns=_SWEEP_COLUMNS)

    def watch(self, sweep):
        """Yields the sweep (an eosweep.v1.Sweep) as it progresses, at most
        every 200 ms while it changes and at least every 2 s, until it is done
        or cancelled (the last one yielded says which)."""
        stream = self._stub.WatchSweep(pb.WatchSweepRequest(sweep_id=sweep), metadata=self._metadata)
        try:
            for msg in stream:
                yield msg.sweep
        finally:
            stream.cancel()

    def cancel(self, sweep):
        """Cancels a sweep (resubmitting its spec resumes it)."""
        return self._call(self._stub.CancelSweep, pb.CancelSweepRequest(sweep_id=sweep)).sweep

    def delete(self, sweep):
        """Deletes a finished or cancelled sweep with its trials and results;
        returns how many trials it had (a running sweep is refused)."""
        return self._call(self._stub.DeleteSweep, pb.DeleteSweepRequest(sweep_id=sweep)).trials

    # Trials.

    def _trials(self, sweep):
        token = ""
        while True:
            page = self._call(self._stub.ListTrials,
                              pb.ListTrialsRequest(sweep_id=sweep, page_size=_PAGE_SIZE, page_token=token))
            yield from page.trials
            token = page.next_page_token
            if not token:
                return

    def trials(self, sweep):
        """Returns a sweep's trials, one row each, in the order they were
        created. Columns as in trials.csv: the trial's parameters as
        submitted (sorted by name), every scalar result field (NaN until
        the trial is done) and the metrics an exec program reported beyond
        them (sorted by name; NaN where a trial has none), then trial (its
        id), state, attempt, round and error. (trials.csv also has every resolved default parameter
        and the analysis columns group, plateau, drop and learned.)"""
        trials = list(self._trials(sweep))
        params = sorted({k for t in trials for k in t.params})
        fields = _result_fields()
        metrics = sorted({k for t in trials for k in t.result.metrics})
        rows = []
        for t in trials:
            row = {k: t.params.get(k, math.nan) for k in params}
            done = t.HasField("result")
            for f in fields:
                row[f.name] = _field(t.result, f) if done else math.nan
            for k in metrics:
                row[k] = t.result.metrics.get(k, math.nan)
            row.update(trial=t.id, state=_enum_name(pb.TrialState, t.state, "TRIAL_STATE_"),
                       attempt=t.attempt, round=t.round, error=t.last_error)
            rows.append(row)
        columns = params + [f.name for f in fields] + metrics + ["trial", "state", "attempt", "round", "error"]
        return pd.DataFrame(rows, columns=columns)

    def trajectories(self, sweep):
        """Returns the trajectories of a sweep's done trials, one row per
        recorded step: trial (its id), the trial's parameters, then step, loss, bias
        and sharpness (0 where sharpness was not measured at that step)."""
        trials = [t for t in self._trials(sweep) if t.HasField("result")]
        params = sorted({k for t in trials for k in t.params})
        rows = []
        for t in trials:
            base = {"trial": t.id}
            base.update({k: t.params.get(k, math.nan) for k in params})
            for p in t.result.trajectory:
                row = dict(base)
                row.update(step=p.step, loss=p.loss, bias=p.bias, sharpness=p.sharpness)
                rows.append(row)
        return pd.DataFrame(rows, columns=["trial"] + params + ["step", "loss", "bias", "sharpness"])

    # Boundary.

    def boundary(self, sweep):
        """Returns the boundary of each group of the sweep's finished trials,
        one row per group, with the columns of `eosweep boundary --format
        csv`: the group's axes, crossing, bracket_low, bracket_high, eta_star,
        ci_low, ci_high, fit, onset, onset_ci_low, onset_ci_high, onset_form,
        theory (NaN when the model has none), stability, trials, and what the
        estimates lack: incomplete, missing and diverged (counts), unconverged
        (the estimates a missing trial could still move, joined by ";"),
        missing_trials and diverged_trials ("state eta=… seed=…" joined by
        "; "), and the order parameter: metric, sense (drop or rise) and
        level (NaN against each seed's plateau). A sweep whose boundary names
        several metrics has one row per group and metric."""
        groups = self._call(self._stub.GetBoundary, pb.GetBoundaryRequest(sweep_id=sweep)).groups
        axes = sorted({k for g in groups for k in g.group})
        rows = []
        for g in groups:
            row = {a: g.group.get(a, math.nan) for a in axes}
            form = _enum_name(pb.OnsetForm, g.onset_form, "ONSET_FORM_", dash=True)
            if g.onset_relative and form:
                form += "+relative"
            row.update(
                crossing=_enum_name(pb.Crossing, g.crossing, "CROSSING_"),
                bracket_low=g.bracket.low, bracket_high=g.bracket.high,
                eta_star=g.eta_star, ci_low=g.ci.low, ci_high=g.ci.high,
                fit=_enum_name(pb.Fit, g.fit, "FIT_"),
                onset=g.onset, onset_ci_low=g.onset_ci.low, onset_ci_high=g.onset_ci.high,
                onset_form=form,
                theory=g.theory if g.HasField("theory") else math.nan,
                stability=g.stability, trials=g.trials,
                incomplete=g.incomplete, missing=len(g.missing), diverged=len(g.diverged),
                unconverged=";".join(g.unconverged),
                missing_trials=_marks(g.missing), diverged_trials=_marks(g.diverged),
                metric=g.metric or "final_bias", sense=_enum_name(pb.Sense, g.sense, "SENSE_") or "drop",
                level=g.level if g.HasField("level") else math.nan)
            rows.append(row)
        return pd.DataFrame(rows, columns=axes + _BOUNDARY_COLUMNS)


_BOUNDARY_COLUMNS = ["crossing", "bracket_low", "bracket_high", "eta_star", "ci_low", "ci_high", "fit",
                     "onset", "onset_ci_low", "onset_ci_high", "onset_form", "theory", "stability", "trials",
                     "incomplete", "missing", "diverged", "unconverged", "missing_trials", "diverged_trials",
                     "metric", "sense", "level"]


def _marks(marks):
    """Trial marks as the boundary CSV writes them: "failed eta=0.5 seed=1; …"."""
    return "; ".join(f"{m.state} eta={_num(m.eta)} seed={_num(m.seed)}" for m in marks)


def _num(v):
    """A float as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it."""
    r = repr(float(v))
    if r.endswith(".0"):
        r = r[:-2]
    return r.replace("e-0", "e-").replace("e+0", "e+")

_SWEEP_COLUMNS = ["id", "name", "model", "state", "round", "max_rounds", "total", "pending", "leased", "done",
                  "failed", "cancelled", "results_per_second", "eta_seconds", "created"]


def _field(msg, f):
    """A scalar field's value, NaN when it has presence and is absent."""
    if f.has_presence and not msg.HasField(f.name):
        return math.nan
    return getattr(msg, f.name)


def _sweep_row(s):
    p = s.progress
    eta = p.eta.ToTimedelta().total_seconds() if p.HasField("eta") else math.nan
    return {"id": s.id, "name": s.name, "model": s.model,
            "state": _enum_name(pb.SweepState, s.state, "SWEEP_STATE_"),
            "round": s.round, "max_rounds": s.max_rounds, "total": p.total, "pending": p.pending,
            "leased": p.leased, "done": p.done, "failed": p.failed, "cancelled": p.cancelled,
            "results_per_second": p.results_per_second, "eta_seconds": eta,
            "created": pd.Timestamp(s.created.ToDatetime(), tz="UTC")}
