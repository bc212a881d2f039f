package dashboard

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/transport"
)

// Config configures a Dashboard.
type Config struct {
	// Source is what the dashboard shows (FromCoordinator).
	Source Source
	// Token, when set, is required of every request (see the package doc).
	Token transport.Secret
	// SessionTTL is how long a login lasts (default 12 h).
	SessionTTL time.Duration
	// UpdateEvery is how often an event stream checks its page's data
	// (default 500 ms): the most often a page updates.
	UpdateEvery time.Duration
	// AnalyseEvery is the least time between two analyses of one sweep
	// (default 1 s).
	AnalyseEvery time.Duration
	// FirstWait is how long a sweep's page waits for the sweep's first
	// analysis (default 2 s; < 0: as long as it takes); past it the page
	// says the analysis runs, and its stream brings it when done.
	FirstWait time.Duration
	// MaxStreams bounds the event streams open at once (default 64); more
	// are refused with 503 and the page falls back to its last state.
	MaxStreams int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Ticks, if set, drives every event stream (one check per value
	// received) instead of a ticker per stream: a fake clock's tick channel.
	Ticks  <-chan time.Time
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.UpdateEvery <= 0 {
		c.UpdateEvery = 500 * time.Millisecond
	}
	if c.AnalyseEvery <= 0 {
		c.AnalyseEvery = time.Second
	}
	if c.FirstWait == 0 {
		c.FirstWait = 2 * time.Second
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 64
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// sweepsKept is how many sweeps' analyses the dashboard keeps in memory.
const sweepsKept = 16

// idleEvery is how many passes an event stream of a running sweep stays
// silent at most (rates, ETAs and "seen … ago" move even when nothing else
// does); any stream sends a keep-alive comment after 4·idleEvery silent
// passes (proxies drop idle connections).
const idleEvery = 10

// Dashboard is the dashboard's HTTP handler.
type Dashboard struct {
	cfg     Config
	src     Source
	auth    auth
	an      *analyst
	pages   map[string]*template.Template
	static  http.Handler
	mux     *http.ServeMux
	streams chan struct{} // a slot per open event stream
	stop    chan struct{} // closed by Close: streams end
	once    sync.Once

	hooks hooks
}

// hooks are called where tests synchronise with the dashboard's goroutines;
// they are nil outside tests (set them before the calls they watch start).
type hooks struct {
	// streamWaiting: an event stream has finished a pass and is about to
	// wait for the next tick (ctx is the stream's request context).
	streamWaiting func(ctx context.Context)
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the pages; each is templates/<name>.html with the layout.
var pageNames = []string{"sweeps", "sweep", "trials", "trial", "workers", "login", "error"}

// New returns a dashboard over cfg.Source.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Source == nil {
		return nil, errors.New("dashboard: Config.Source is required")
	}
	cfg.defaults()
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	d := &Dashboard{cfg: cfg, src: cfg.Source, pages: pages,
		auth:    auth{token: cfg.Token, ttl: cfg.SessionTTL, now: cfg.Now},
		an:      newAnalyst(cfg.Source, cfg.Now, cfg.AnalyseEvery, sweepsKept),
		static:  http.StripPrefix("/static/", http.FileServerFS(sub)),
		streams: make(chan struct{}, cfg.MaxStreams), stop: make(chan struct{})}
	d.routes()
	return d, nil
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// Close ends every event stream (an http.Server's Shutdown waits for
// handlers, and a stream's handler runs until its page goes away).
func (d *Dashboard) Close() { d.once.Do(func() { close(d.stop) }) }

func (d *Dashboard) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/sweeps", http.StatusSeeOther)
	})
	m.HandleFunc("GET /sweeps", d.sweepsPage)
	m.HandleFunc("GET /sweeps/{id}", d.sweepPage)
	m.HandleFunc("GET /sweeps/{id}/figures/{name}", d.sweepFigure)
	m.HandleFunc("GET /sweeps/{id}/trials", d.trialsPage)
	m.HandleFunc("GET /sweeps/{id}/trials/{trial}", d.trialPage)
	m.HandleFunc("GET /sweeps/{id}/trials/{trial}/trajectory.svg", d.trajectoryFigure)
	m.HandleFunc("GET /workers", d.workersPage)
	m.HandleFunc("GET /events", d.events)
	m.HandleFunc("GET /login", d.loginPage)
	m.HandleFunc("POST /login", d.login)
	m.HandleFunc("POST /logout", d.logout)
	m.Handle("GET /static/", d.static)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/static/favicon.svg"
		d.static.ServeHTTP(w, r2)
	})
	d.mux = m
}

// open are the paths served without the token: the login form, logging
// out and the static files they need (nothing in them depends on the
// coordinator).
func open(path string) bool {
	return path == "/login" || path == "/logout" || path == "/favicon.ico" || strings.HasPrefix(path, "/static/")
}

// ServeHTTP implements http.Handler: security headers on every response,
// the token check, then the routes.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // "no-referrer" would make a form's Origin "null"
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !open(r.URL.Path) && !d.auth.allowed(r) {
		d.refuse(w, r)
		return
	}
	d.mux.ServeHTTP(w, r)
}

// pageCSP allows only this origin's scripts, styles, images and streams,
// no inline script or style, no framing, and forms posting only here.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// figureCSP is the policy of an SVG figure: its styles are inline, and it
// loads and runs nothing.
const figureCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"

// refuse answers a request without the token: a page view is sent to the
// login form (which comes back to it), anything else gets 401.
func (d *Dashboard) refuse(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && wantsPage(r) {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="eosweep dashboard"`)
	http.Error(w, "401 unauthorized: this dashboard needs the coordinator's token (log in at /login, or send Authorization: Bearer <token>)",
		http.StatusUnauthorized)
}

// wantsPage tells a browser's page view from a fetch of a part, a figure
// or a stream.
func wantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html") && r.URL.Query().Get("part") == "" &&
		!strings.HasSuffix(r.URL.Path, ".svg") && r.URL.Path != "/events"
}

// digest is a short stable hash of an event stream's view of its data.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// events streams "update" events for one page (query view = sweeps, sweep,
// trial or workers; id and trial name the sweep and trial): on every tick
// it reads the page's data and sends an event when that changed, or when a
// running sweep stayed silent for idleEvery ticks.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sig, err := d.signature(q.Get("view"), q.Get("id"), q.Get("trial"))
	if err != nil {
		httpError(w, err)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	select {
	case d.streams <- struct{}{}:
		defer func() { <-d.streams }()
	default:
		http.Error(w, fmt.Sprintf("503: %d event streams are open already", cap(d.streams)), http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	ticks := d.cfg.Ticks
	if ticks == nil {
		t := time.NewTicker(d.cfg.UpdateEvery)
		defer t.Stop()
		ticks = t.C
	}
	if err := writeRetry(w, 2000); err != nil {
		return
	}
	last, silent := "", 0
	for {
		s, running, err := sig()
		if err != nil {
			_ = writeEvent(w, "gone", err.Error())
			fl.Flush()
			return
		}
		silent++
		switch {
		case s != last || (running && silent >= idleEvery):
			if writeEvent(w, "update", digest(s)) != nil {
				return
			}
			last, silent = s, 0
		case silent%(4*idleEvery) == 0:
			if writeComment(w, "keep-alive") != nil {
				return
			}
		}
		fl.Flush()
		if h := d.hooks.streamWaiting; h != nil {
			h(r.Context())
		}
		select {
		case <-r.Context().Done():
			return
		case <-d.stop:
			return
		case <-ticks:
		}
	}
}

// signature returns the function that reads one view's data as a string
// that changes when the page would, and whether something there runs.
func (d *Dashboard) signature(view, id, trial string) (func() (string, bool, error), error) {
	switch view {
	case "sweeps":
		return func() (string, bool, error) {
			var b strings.Builder
			running := false
			for _, info := range d.src.Sweeps() {
				p := info.Progress
				fmt.Fprintf(&b, "%s %v %d %d %d %d %d %d;", info.Sweep.ID, info.Sweep.State, info.Sweep.Round, p.Total, p.Pending, p.Leased, p.Done, p.Failed)
				running = running || info.Sweep.State == store.SweepRunning
			}
			return b.String(), running, nil
		}, nil
	case "sweep":
		if _, err := d.src.Sweep(id); err != nil {
			return nil, err
		}
		return func() (string, bool, error) {
			info, err := d.src.Sweep(id)
			if err != nil {
				return "", false, err
			}
			s, err := d.an.get(info)
			if err != nil {
				return "", false, err
			}
			p := info.Progress
			return fmt.Sprintf("%v %d %d %d %d %d %d v%d", info.Sweep.State, info.Sweep.Round, p.Total, p.Pending, p.Leased, p.Done, p.Failed, s.version),
				info.Sweep.State == store.SweepRunning, nil
		}, nil
	case "trial":
		// The trial is read again only when its sweep announced a change.
		var changed <-chan struct{}
		var last string
		var running bool
		return func() (string, bool, error) {
			if changed != nil {
				select {
				case <-changed:
				default:
					return last, running, nil
				}
			}
			info, err := d.src.Sweep(id)
			if err != nil {
				return "", false, err
			}
			v, err := d.src.Trial(id, trial)
			if err != nil {
				return "", false, err
			}
			t := v.Trial
			changed, running = info.Changed, !t.State.Terminal()
			last = fmt.Sprintf("%v %d %s %v %s", t.State, t.Attempt, v.Worker, v.Deadline.UnixMilli(), t.LastError)
			return last, running, nil
		}, d.checkTrial(id, trial)
	case "workers":
		return func() (string, bool, error) {
			ws, err := d.src.Workers()
			if err != nil {
				return err.Error(), false, nil
			}
			var b strings.Builder
			for _, w := range ws {
				fmt.Fprintf(&b, "%s %d %d %d;", w.ID, w.Leases, w.Done, w.Failed)
			}
			return b.String(), len(ws) > 0, nil
		}, nil
	}
	return nil, badRequest("view: %q: want sweeps, sweep, trial or workers", view)
}

// checkTrial says whether a trial exists (nil when it does).
func (d *Dashboard) checkTrial(sweep, trial string) error {
	_, err := d.src.Trial(sweep, trial)
	return err
}
