package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eosweep/eosweep/coordinator/boundary"
	"github.com/eosweep/eosweep/coordinator/report"
	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/coordinator/store"
)

// Page sizes and bounds of what one page shows.
const (
	listPage   = 20  // failed and leased trials on a sweep's page
	trialsPage = 50  // trials per page of a sweep's trial list
	maxGroups  = 200 // groups in a boundary table
	maxSweeps  = 500 // sweeps on the sweeps page (the newest)
	maxError   = 300 // characters of an error in a list
	maxDetail  = 8 << 10
	maxFrom    = 1 << 30
)

// page is what the layout needs of every page.
type page struct {
	Title  string
	Nav    string // the navigation entry to mark
	Live   string // URL of the live part ("" for a static page)
	Events string // URL of its event stream
	Auth   bool   // a token is required (show "log out")
	Body   any
}

// render writes a page, or only its live part when the request asks for it.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	p.Auth = d.auth.on()
	tmpl := "layout"
	if r.URL.Query().Get("part") == "live" {
		tmpl = "live"
	}
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, tmpl, p); err != nil {
		d.cfg.Logger.Error("dashboard template", "page", name, "err", err)
		http.Error(w, "500: template: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// liveURL is the request's URL with part=live.
func liveURL(r *http.Request) string {
	q := r.URL.Query()
	q.Set("part", "live")
	return r.URL.Path + "?" + q.Encode()
}

func eventsURL(view string, kv ...string) string {
	q := url.Values{"view": {view}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/events?" + q.Encode()
}

// requestError is a bad request, with what to fix.
type requestError struct{ msg string }

func (e requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error { return requestError{fmt.Sprintf(format, args...)} }

// status maps an error onto an HTTP status.
func status(err error) int {
	var re requestError
	switch {
	case errors.As(err, &re), errors.Is(err, ErrBadQuery):
		return http.StatusBadRequest
	case errors.Is(err, scheduler.ErrUnknownSweep), errors.Is(err, ErrUnknownTrial), errors.Is(err, errNoFigure):
		return http.StatusNotFound
	case errors.Is(err, scheduler.ErrClosed), errors.Is(err, store.ErrClosed):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func httpError(w http.ResponseWriter, err error) {
	code := status(err)
	http.Error(w, fmt.Sprintf("%d %s: %v", code, http.StatusText(code), err), code)
}

// errorPage shows an error as a page.
func (d *Dashboard) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	d.render(w, r, "error", code, page{Title: http.StatusText(code), Body: struct {
		Code int
		Text string
		Err  string
	}{code, http.StatusText(code), err.Error()}})
}

// intParam reads a non-negative integer query parameter (default def).
func intParam(r *http.Request, name string, def, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > hi {
		return 0, badRequest("%s: %q: want an integer in [0, %d]", name, v, hi)
	}
	return n, nil
}

// stateParam reads the state filter ("" or "all": every state).
func stateParam(r *http.Request) (store.TrialState, error) {
	v := strings.ToLower(r.URL.Query().Get("state"))
	if v == "" || v == "all" {
		return 0, nil
	}
	for st := store.Pending; st <= store.Cancelled; st++ {
		if strings.ToLower(st.String()) == v {
			return st, nil
		}
	}
	return 0, badRequest("state: %q: want pending, leased, done, failed, cancelled or all", v)
}

// ---- the sweeps page

type sweepRow struct {
	ID, Short, Name, Model, State, StateClass string
	URL                                       string
	Total, Done, Failed, Leased, Pending      int
	Cancelled                                 int
	Round, Rounds                             int
	Rate, ETA, Created                        string
	Bar                                       []segment
}

// segment is one state's share of a progress bar, in percent.
type segment struct {
	Class, Title string
	X, W         string
}

func (d *Dashboard) sweepRow(info scheduler.SweepInfo) sweepRow {
	p, sw := info.Progress, info.Sweep
	row := sweepRow{ID: sw.ID, Short: short(sw.ID), Name: sw.Name, Model: sw.Model, State: strings.ToLower(sw.State.String()),
		URL: "/sweeps/" + url.PathEscape(sw.ID), Total: p.Total, Done: p.Done, Failed: p.Failed, Leased: p.Leased,
		Pending: p.Pending, Cancelled: p.Cancelled, Round: sw.Round, Created: sw.Created.UTC().Format("2006-01-02 15:04:05 UTC"),
		Rate: "—", ETA: "—"}
	row.StateClass = "state-" + row.State
	if info.Spec != nil {
		row.Rounds = info.Spec.Boundary.Refine.Rounds
	}
	if sw.State == store.SweepRunning {
		if p.ResultsPerSecond > 0 {
			row.Rate = strconv.FormatFloat(p.ResultsPerSecond, 'f', 1, 64)
		}
		if p.ETA > 0 {
			row.ETA = duration(p.ETA)
		}
	}
	x := 0.0
	for _, s := range []struct {
		class string
		n     int
	}{{"done", p.Done}, {"failed", p.Failed}, {"leased", p.Leased}, {"pending", p.Pending}, {"cancelled", p.Cancelled}} {
		if s.n == 0 || p.Total == 0 {
			continue
		}
		w := 100 * float64(s.n) / float64(p.Total)
		row.Bar = append(row.Bar, segment{Class: s.class, Title: fmt.Sprintf("%d %s", s.n, s.class),
			X: strconv.FormatFloat(x, 'f', 3, 64), W: strconv.FormatFloat(w, 'f', 3, 64)})
		x += w
	}
	return row
}

type sweepsBody struct {
	Rows []sweepRow
	More int // sweeps left out
}

func (d *Dashboard) sweepsPage(w http.ResponseWriter, r *http.Request) {
	var body sweepsBody
	for _, info := range d.src.Sweeps() {
		if len(body.Rows) == maxSweeps {
			body.More++
			continue
		}
		body.Rows = append(body.Rows, d.sweepRow(info))
	}
	d.render(w, r, "sweeps", http.StatusOK, page{Title: "Sweeps", Nav: "sweeps", Live: liveURL(r), Events: eventsURL("sweeps"), Body: body})
}

// ---- a sweep's page

type sweepBody struct {
	Sweep     sweepRow
	Analysis  analysisView
	Failed    trialList
	Leased    trialList
	TrialsURL string
}

type analysisView struct {
	// Pending is set while the sweep's first analysis runs.
	Pending  bool
	Version  int
	Done     int
	Err      string
	Phase    string // figure URLs ("" when there is none yet)
	Overview string
	Group    string
	Groups   []groupRow
	More     int  // groups left out of the table
	Metrics  bool // several metrics: the table names each row's
	// Unconverged is set when an estimate may still move (starred).
	Unconverged bool
	GroupSel    int
	Links       []groupLink
}

type groupRow struct {
	Name, Metric                               string
	Bracket, EtaStar, Onset, Theory, Stability string
	RatioStar, RatioOnset                      string
	Trials                                     int
	Warning                                    string
	Incomplete, Unconverged                    bool
}

type groupLink struct {
	Name, URL string
	On        bool
}

type trialList struct {
	Rows []trialRow
	// ShowLease and ShowError select the columns of lease and error.
	ShowLease, ShowError bool
	Count                int    // trials in this state
	Next                 string // URL of the next page ("" at the end)
	All                  string // URL of the full list
}

type trialRow struct {
	ID, Short, URL, Params, State  string
	Attempt                        int
	Error, Worker, Deadline, Round string
}

func (d *Dashboard) sweepPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	info, err := d.src.Sweep(id)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	gsel, err := intParam(r, "group", 0, maxFrom)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	body := sweepBody{Sweep: d.sweepRow(info), TrialsURL: "/sweeps/" + url.PathEscape(id) + "/trials"}
	snap, err := d.an.current(info, d.cfg.FirstWait)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	if snap != nil {
		body.Analysis = d.analysisView(info, snap, gsel)
	} else {
		body.Analysis = analysisView{Pending: true, Done: info.Progress.Done}
	}
	for _, l := range []struct {
		list  *trialList
		state store.TrialState
		param string
		count int
	}{{&body.Failed, store.Failed, "failed", info.Progress.Failed}, {&body.Leased, store.Leased, "leased", info.Progress.Leased}} {
		from, err := intParam(r, l.param, 0, maxFrom)
		if err != nil {
			d.errorPage(w, r, err)
			return
		}
		if l.count == 0 && from == 0 {
			continue // nothing to list: no read
		}
		*l.list, err = d.trialList(r, info, l.state, from, listPage, l.param)
		if err != nil {
			d.errorPage(w, r, err)
			return
		}
		l.list.Count = l.count
	}
	d.render(w, r, "sweep", http.StatusOK, page{Title: info.Sweep.Name, Nav: "sweeps", Live: liveURL(r),
		Events: eventsURL("sweep", "id", id), Body: body})
}

func (d *Dashboard) analysisView(info scheduler.SweepInfo, s *snapshot, gsel int) analysisView {
	base := "/sweeps/" + url.PathEscape(info.Sweep.ID)
	v := analysisView{Version: s.version, Done: s.done, GroupSel: gsel}
	if s.err != nil {
		v.Err = s.err.Error()
	}
	ver := "?v=" + strconv.Itoa(s.version)
	if s.data != nil && len(s.data.Groups) > 0 {
		v.Phase = base + "/figures/phase.svg" + ver
		v.Overview = base + "/figures/overview.svg" + ver
		if gsel >= len(s.data.Groups) {
			gsel = 0
		}
		v.GroupSel = gsel
		v.Group = base + "/figures/" + figGroup + strconv.Itoa(gsel) + ".svg" + ver
		if len(s.data.Groups) > 1 {
			for gi, g := range s.data.Groups {
				v.Links = append(v.Links, groupLink{Name: boundary.GroupName(s.groupBy, g.Key),
					URL: base + "?group=" + strconv.Itoa(gi), On: gi == gsel})
			}
		}
	}
	metrics := map[string]bool{}
	for _, g := range s.groups {
		metrics[g.Metric.String()] = true
	}
	v.Metrics = len(metrics) > 1
	for _, g := range s.groups {
		if len(v.Groups) == maxGroups {
			v.More++
			continue
		}
		row := groupRowOf(boundary.GroupName(s.groupBy, g.Key), g)
		v.Unconverged = v.Unconverged || row.Unconverged
		v.Groups = append(v.Groups, row)
	}
	return v
}

// groupRowOf formats one group's boundary and what it lacks: a star on
// every estimate a missing trial could still move, the missing trials by
// state and the diverged ones.
func groupRowOf(name string, g boundary.Group) groupRow {
	star := func(estimate string) string {
		if slices.Contains(g.Unconverged, estimate) {
			return " *"
		}
		return ""
	}
	row := groupRow{Name: name, Metric: g.Metric.String(), Bracket: bracketText(g) + star(boundary.EstimateBracket), Trials: g.Trials,
		EtaStar: estimateText(g.Fit != boundary.FitNone, g.EtaStar, g.CI) + star(boundary.EstimateCI),
		Onset:   estimateText(g.OnsetForm != boundary.OnsetNone, g.Onset, g.OnsetCI) + star(boundary.EstimateOnsetCI),
		Theory:  "—", Stability: num(g.Stability), RatioStar: "—", RatioOnset: "—",
		Unconverged: len(g.Unconverged) > 0, Incomplete: g.Incomplete}
	if g.Theory != nil && *g.Theory > 0 {
		row.Theory = num(*g.Theory)
		if g.Fit != boundary.FitNone {
			row.RatioStar = strconv.FormatFloat(g.EtaStar / *g.Theory, 'f', 3, 64)
		}
		if g.OnsetForm != boundary.OnsetNone {
			row.RatioOnset = strconv.FormatFloat(g.Onset / *g.Theory, 'f', 3, 64)
		}
	}
	var notes []string
	if len(g.Missing) > 0 {
		open := false
		for _, m := range g.Missing {
			open = open || m.State == "pending" || m.State == "leased"
		}
		why := " — these trials will not finish; the estimates lack them"
		if open {
			why = " — the estimates do not see them yet"
		}
		notes = append(notes, "incomplete: "+marksText(g.Missing)+why)
	}
	if len(g.Diverged) > 0 {
		notes = append(notes, fmt.Sprintf("%d diverged (counted, in no fit)", len(g.Diverged)))
	}
	row.Warning = strings.Join(notes, "; ")
	return row
}

// marksText counts trials by state ("2 failed, 5 pending"), leased ones as
// running.
func marksText(ms []boundary.Mark) string {
	n := map[string]int{}
	for _, m := range ms {
		n[m.State]++
	}
	var parts []string
	for _, st := range []string{"failed", "cancelled", "done", "leased", "pending"} {
		name := st
		switch st {
		case "leased":
			name = "running"
		case "done":
			name = "without a stored result"
		}
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], name))
		}
		delete(n, st)
	}
	for st, k := range n { // a state this list does not know
		parts = append(parts, fmt.Sprintf("%d %s", k, st))
	}
	return strings.Join(parts, ", ")
}

func bracketText(g boundary.Group) string {
	switch g.Crossing {
	case boundary.CrossingBelow:
		return "below the grid (< " + num(g.Bracket.Low) + ")"
	case boundary.CrossingAbove:
		return "above the grid (> " + num(g.Bracket.High) + ")"
	}
	return "[" + num(g.Bracket.Low) + ", " + num(g.Bracket.High) + "]"
}

func estimateText(ok bool, v float64, ci boundary.Interval) string {
	if !ok || math.IsNaN(v) {
		return "—"
	}
	return num(v) + " [" + num(ci.Low) + ", " + num(ci.High) + "]"
}

// num formats a number with four significant digits ("—" when not finite).
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// trialList reads one page of a sweep's trials in a state; param is the
// query parameter holding the page's start on the sweep's page ("" on the
// trial list).
func (d *Dashboard) trialList(r *http.Request, info scheduler.SweepInfo, st store.TrialState, from, limit int, param string) (trialList, error) {
	id := info.Sweep.ID
	views, next, err := d.src.TrialPage(id, TrialQuery{State: st, From: from, Limit: limit})
	if err != nil {
		return trialList{}, err
	}
	out := trialList{All: "/sweeps/" + url.PathEscape(id) + "/trials?state=" + strings.ToLower(st.String()),
		ShowLease: st == 0 || st == store.Leased, ShowError: st != store.Leased}
	if st == 0 {
		out.All = "/sweeps/" + url.PathEscape(id) + "/trials"
	}
	now := d.cfg.Now()
	for _, v := range views {
		out.Rows = append(out.Rows, d.trialRow(info, v, now, maxError))
	}
	if next >= 0 {
		q := r.URL.Query()
		q.Del("part")
		key := param
		if key == "" {
			key = "from"
		}
		q.Set(key, strconv.Itoa(next))
		out.Next = r.URL.Path + "?" + q.Encode()
	}
	return out, nil
}

func (d *Dashboard) trialRow(info scheduler.SweepInfo, v TrialView, now time.Time, maxErr int) trialRow {
	t := v.Trial
	row := trialRow{ID: t.ID, Short: short(t.ID), URL: "/sweeps/" + url.PathEscape(info.Sweep.ID) + "/trials/" + url.PathEscape(t.ID),
		Params: paramText(t.Params, info), State: strings.ToLower(t.State.String()), Attempt: t.Attempt,
		Error: clip(t.LastError, maxErr), Worker: v.Worker, Round: strconv.Itoa(t.Round)}
	if row.Worker == "" && t.State == store.Leased {
		row.Worker = "—"
	}
	if !v.Deadline.IsZero() {
		row.Deadline = until(v.Deadline, now)
	}
	return row
}

// paramText is a trial's parameters that vary over the sweep (the grid
// axes), η first, then by name; every parameter when the spec is unknown.
func paramText(params map[string]float64, info scheduler.SweepInfo) string {
	keys := make([]string, 0, len(params))
	var grid map[string]bool
	if info.Spec != nil {
		grid = map[string]bool{}
		for _, a := range info.Spec.Grid {
			grid[a.Name] = true
		}
	}
	for k := range params {
		if grid == nil || grid[k] || len(grid) == 0 {
			keys = append(keys, k)
		}
	}
	report.SortParams(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(params[k], 'g', 6, 64)
	}
	return strings.Join(parts, " ")
}

// ---- figures

func (d *Dashboard) sweepFigure(w http.ResponseWriter, r *http.Request) {
	info, err := d.src.Sweep(r.PathValue("id"))
	if err != nil {
		httpError(w, err)
		return
	}
	name, ok := strings.CutSuffix(r.PathValue("name"), ".svg")
	if !ok {
		httpError(w, errNoFigure)
		return
	}
	s, err := d.an.peek(info)
	if err != nil {
		httpError(w, err)
		return
	}
	svg, err := s.figure(name, d.cfg.Now)
	if err != nil {
		httpError(w, err)
		return
	}
	writeSVG(w, r, svg, fmt.Sprintf(`"%s-v%d-%s"`, short(info.Sweep.ID), s.version, name))
}

// writeSVG answers with a figure; a request holding its ETag gets 304.
func writeSVG(w http.ResponseWriter, r *http.Request, svg []byte, etag string) {
	h := w.Header()
	h.Set("Content-Security-Policy", figureCSP)
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "private, no-cache")
	if etag != "" {
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	_, _ = w.Write(svg)
}

// ---- a sweep's trial list

type trialsBody struct {
	Sweep  sweepRow
	State  string
	States []groupLink
	List   trialList
	From   int
}

func (d *Dashboard) trialsPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	info, err := d.src.Sweep(id)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	st, err := stateParam(r)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	from, err := intParam(r, "from", 0, maxFrom)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	list, err := d.trialList(r, info, st, from, trialsPage, "")
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	name := "all"
	if st != 0 {
		name = strings.ToLower(st.String())
	}
	body := trialsBody{Sweep: d.sweepRow(info), State: name, List: list, From: from}
	base := "/sweeps/" + url.PathEscape(id) + "/trials"
	for _, s := range []string{"all", "pending", "leased", "done", "failed", "cancelled"} {
		body.States = append(body.States, groupLink{Name: s, URL: base + "?state=" + s, On: s == name})
	}
	d.render(w, r, "trials", http.StatusOK, page{Title: info.Sweep.Name + ": trials", Nav: "sweeps", Live: liveURL(r),
		Events: eventsURL("sweep", "id", id), Body: body})
}

// ---- a trial's page

type trialBody struct {
	Sweep      sweepRow
	Trial      trialRow
	Params     []field
	Result     []field
	Trajectory string // figure URL ("" without one)
	Error      string
	Created    string
}

type field struct{ Name, Value string }

func (d *Dashboard) trialPage(w http.ResponseWriter, r *http.Request) {
	id, tid := r.PathValue("id"), r.PathValue("trial")
	info, err := d.src.Sweep(id)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	v, err := d.src.Trial(id, tid)
	if err != nil {
		d.errorPage(w, r, err)
		return
	}
	t := v.Trial
	body := trialBody{Sweep: d.sweepRow(info), Trial: d.trialRow(info, v, d.cfg.Now(), maxDetail), Error: clip(t.LastError, maxDetail)}
	keys := make([]string, 0, len(t.Params))
	for k := range t.Params {
		keys = append(keys, k)
	}
	report.SortParams(keys)
	for _, k := range keys {
		body.Params = append(body.Params, field{k, strconv.FormatFloat(t.Params[k], 'g', -1, 64)})
	}
	if t.State == store.Done {
		rs, err := d.src.Results([]store.Trial{t})
		if err != nil {
			d.errorPage(w, r, err)
			return
		}
		if res, ok := rs[t.ID]; ok {
			body.Result = resultFields(res)
			if len(res.Trajectory) > 0 {
				body.Trajectory = body.Trial.URL + "/trajectory.svg"
			}
		}
	}
	d.render(w, r, "trial", http.StatusOK, page{Title: "trial " + short(t.ID), Nav: "sweeps", Live: liveURL(r),
		Events: eventsURL("trial", "id", id, "trial", tid), Body: body})
}

// resultFields lists a result's scalar fields by their JSON names (the one
// spelling of every field), in the result's order.
func resultFields(res any) []field {
	b, err := json.Marshal(res)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []field
	if _, err := dec.Token(); err != nil { // {
		return nil
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		k, _ := kt.(string)
		if k == "trajectory" {
			continue
		}
		s := string(v)
		if f, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, ".eE") {
			s = strconv.FormatFloat(f, 'g', 6, 64)
		}
		out = append(out, field{k, s})
	}
	return out
}

func (d *Dashboard) trajectoryFigure(w http.ResponseWriter, r *http.Request) {
	id, tid := r.PathValue("id"), r.PathValue("trial")
	info, err := d.src.Sweep(id)
	if err != nil {
		httpError(w, err)
		return
	}
	v, err := d.src.Trial(id, tid)
	if err != nil {
		httpError(w, err)
		return
	}
	rs, err := d.src.Results([]store.Trial{v.Trial})
	if err != nil {
		httpError(w, err)
		return
	}
	res, ok := rs[tid]
	if !ok || len(res.Trajectory) == 0 {
		httpError(w, fmt.Errorf("trial %s has no trajectory yet: %w", short(tid), errNoFigure))
		return
	}
	etag := `"` + short(tid) + `-trajectory"`
	if r.Header.Get("If-None-Match") == etag {
		writeSVG(w, r, nil, etag)
		return
	}
	f, err := report.TrajectoryFigure(info.Sweep.Model, boundary.Trial{Params: v.Trial.Params, Result: res}, report.DoubleColumn)
	if err != nil {
		httpError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := f.RenderSVG(&buf, false); err != nil {
		httpError(w, err)
		return
	}
	writeSVG(w, r, buf.Bytes(), etag)
}

// ---- workers

type workersBody struct {
	Rows []workerRow
	Note string
}

type workerRow struct {
	ID, Addr, LastSeen string
	Leases             int
	Done, Failed       int64
}

func (d *Dashboard) workersPage(w http.ResponseWriter, r *http.Request) {
	var body workersBody
	ws, err := d.src.Workers()
	switch {
	case errors.Is(err, ErrNoWorkers):
		body.Note = "This coordinator keeps no record of its workers yet; the sweeps' leased trials show what runs."
	case err != nil:
		d.errorPage(w, r, err)
		return
	}
	now := d.cfg.Now()
	for _, wk := range ws {
		body.Rows = append(body.Rows, workerRow{ID: wk.ID, Addr: wk.Addr, LastSeen: ago(wk.LastSeen, now),
			Leases: wk.Leases, Done: wk.Done, Failed: wk.Failed})
	}
	d.render(w, r, "workers", http.StatusOK, page{Title: "Workers", Nav: "workers", Live: liveURL(r), Events: eventsURL("workers"), Body: body})
}

// ---- login

type loginBody struct {
	Next  string
	Error string
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if !d.auth.on() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.render(w, r, "login", http.StatusOK, page{Title: "Log in", Body: loginBody{Next: next}})
}

// maxLoginBody bounds a login form.
const maxLoginBody = 4 << 10

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "403 forbidden: cross-origin login", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 bad request: login form: "+err.Error(), http.StatusBadRequest)
		return
	}
	next := localPath(r.PostForm.Get("next"))
	if !d.auth.on() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if !d.auth.token.Matches(r.PostForm.Get("token")) {
		d.cfg.Logger.Warn("dashboard login refused", "remote", r.RemoteAddr)
		d.render(w, r, "login", http.StatusUnauthorized, page{Title: "Log in", Body: loginBody{Next: next, Error: "That is not the coordinator's token."}})
		return
	}
	http.SetCookie(w, d.auth.cookie(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "403 forbidden: cross-origin logout", http.StatusForbidden)
		return
	}
	http.SetCookie(w, d.auth.expired(r))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// sameOrigin refuses a form posted from another site: its Origin (when the
// browser sends one) must name this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// ---- formatting

// short is an id's first 12 characters.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// duration formats a duration to the second, or to the minute past an hour.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "< 1s"
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return duration(now.Sub(t)) + " ago"
}

func until(t, now time.Time) string {
	if d := t.Sub(now); d >= 0 {
		return "in " + duration(d)
	}
	return duration(now.Sub(t)) + " ago"
}
