package dashboard_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/coordinator/dashboard"
	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
	"github.com/eosweep/eosweep/worker"
)

// browserSpec is the browser test's sweep: two groups of the single model
// with their transitions (8/x0²) inside the grid, and a refinement round.
const browserSpec = `name: browser-sweep
model: single
grid:
  eta: [0.5, 1, 2, 3, 4, 6, 8, 12, 16]
  x0: [1, 2]
  seed: {range: [0, 2]}
params: {steps: 400}
boundary: {refine: {rounds: 1, tolerance: 0.05}}
`

// screenshotEnv names the directory (relative to the repository's root)
// the browser test writes screenshots of the sweeps, sweep and trial pages
// to (the README's, in docs/), from a run of examples/figure1.yaml instead
// of browserSpec.
const screenshotEnv = "EOSWEEP_SCREENSHOTS"

// gate holds every trial until the test lets it run.
type gate chan struct{}

func (g gate) run(ctx context.Context, cfg engine.Config) (engine.Result, error) {
	select {
	case <-g:
	case <-ctx.Done():
		return engine.Result{}, ctx.Err()
	}
	return engine.Run(ctx, cfg)
}

// release lets n trials run, waiting for the worker to take each.
func (g gate) release(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case g <- struct{}{}:
		case <-time.After(60 * time.Second):
			t.Fatal("no trial waited at the gate for 60 s")
		}
	}
}

// feed lets every trial run until stop is called.
func (g gate) feed() (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case g <- struct{}{}:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-ended }
}

// consoleLog collects the browser's error messages: console.error calls,
// uncaught exceptions and error entries of the browser log (failed loads,
// CSP violations).
type consoleLog struct {
	mu   sync.Mutex
	errs []string
}

func (c *consoleLog) watch(ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == "assert" {
			c.mu.Lock()
			c.errs = append(c.errs, fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			c.mu.Unlock()
		}
	}
}

func (c *consoleLog) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// TestBrowser drives headless Chromium against a real coordinator with a
// running sweep: the dashboard refuses a request without its token, the
// login form lets the browser in, the sweeps page lists the sweep, the
// sweep page's counts and phase diagram change while trials land (without
// a reload), the trial page shows its trajectory, and the browser's
// console has no error.
func TestBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("SKIPPED: no Chromium found (chromium, chromium-browser or google-chrome on PATH; Debian: apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("SKIPPED: -short (the browser test starts Chromium)")
	}
	shots := os.Getenv(screenshotEnv)
	if shots != "" && !filepath.IsAbs(shots) {
		shots = filepath.Join("..", "..", shots) // relative to the repository's root
	}
	specText := browserSpec
	if shots != "" {
		b, err := os.ReadFile("../../examples/figure1.yaml")
		if err != nil {
			t.Fatal(err)
		}
		specText = string(b)
	}

	c, conn := coordinatortest.Start(t, coordinator.Config{})
	const token = "browser-test-token"
	d, err := dashboard.New(dashboard.Config{Source: dashboard.FromCoordinator(c.Scheduler, c.Store), Token: token,
		UpdateEvery: 100 * time.Millisecond, AnalyseEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dashboard.Serve(d, "127.0.0.1:0", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	base := strings.TrimSuffix(srv.URL(), "/")

	cl := pb.NewCoordinatorServiceClient(conn)
	g := make(gate)
	wctx, stopWorker := context.WithCancel(context.Background())
	w := worker.New(cl, worker.Config{ID: "browser-worker", Parallel: 2, Prefetch: 1, LeaseWait: 100 * time.Millisecond,
		Grace: time.Second, Runner: worker.RunnerFunc(g.run)})
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); _ = w.Run(wctx) }()
	t.Cleanup(func() { stopWorker(); <-workerDone })
	submit := func(text string) (string, int) {
		t.Helper()
		sub, err := cl.SubmitSweep(context.Background(), &pb.SubmitSweepRequest{SpecYaml: text})
		if err != nil {
			t.Fatal(err)
		}
		return sub.GetSweep().GetId(), int(sub.GetSweep().GetProgress().GetTotal())
	}
	if shots != "" { // a finished sweep above the running one on the sweeps page
		first, _ := submit(browserSpec)
		stop := g.feed()
		testwait.Until(t, "the first sweep done", 5*time.Minute, func() (bool, <-chan struct{}) {
			info, err := c.Scheduler.Sweep(first)
			if err != nil {
				t.Fatal(err)
			}
			return info.Sweep.State == store.SweepDone, info.Changed
		})
		stop()
	}
	id, total := submit(specText)

	// Without the token the dashboard shows nothing.
	for path, want := range map[string]int{"/sweeps/" + id + "?part=live": 401, "/sweeps/" + id + "/figures/phase.svg": 401,
		"/events?view=sweeps": 401} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without the token: %s, want %d", path, resp.Status, want)
		}
	}

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Skipf("SKIPPED: Chromium (%s) cannot start: %v", chromium, err)
	}
	var console consoleLog
	go console.watch(ctx)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, steps...); err != nil {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			loc, _ := chromedp.Run(dctx, chromedp.Location())
			html, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
			t.Fatalf("%s: %v\nat %s:\n%s\nconsole errors: %v", what, err, loc, clip(html, 3000), console.errors())
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	waitFor := func(what, expr string) {
		t.Helper()
		run("wait for "+what, void(chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(90*time.Second))))
	}

	// The browser is sent to the login form, and in with the token.
	run("open the dashboard", chromedp.Navigate(base+"/sweeps"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != base+"/login?next=%2Fsweeps" {
		t.Errorf("without the token the browser is at %q (%v), want the login form", loc, err)
	}
	if got := eval(`document.body.textContent`); strings.Contains(got, "browser-sweep") || strings.Contains(got, "figure1") {
		t.Error("the login form shows the sweep")
	}
	run("log in", chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-sweep="`+id+`"]`)))
	if got := eval(`document.querySelector('tr[data-sweep="` + id + `"]').textContent`); !strings.Contains(got, "running") ||
		!strings.Contains(got, strings.SplitN(strings.SplitN(specText, "name: ", 2)[1], "\n", 2)[0]) {
		t.Errorf("the sweeps page's row: %q", got)
	}

	// The sweep page, before any trial lands, then while they do.
	done := `document.querySelector('dd[data-count="done"]').textContent`
	phaseSrc := `(document.querySelector('#phase img') || {}).src || ''`
	run("open the sweep", chromedp.Navigate(base+"/sweeps/"+id), chromedp.WaitVisible(chromedp.CSS(`dd[data-count="done"]`)))
	if got := eval(done); got != "0" {
		t.Errorf("done before any trial ran: %q", got)
	}
	if got := eval(phaseSrc); got != "" {
		t.Errorf("a phase diagram before any result: %q", got)
	}
	first := 3
	if shots != "" {
		first = total * 2 / 3
	}
	g.release(t, first)
	waitFor(fmt.Sprintf("%d trials done on the page", first), fmt.Sprintf(`Number(%s) >= %d && (%s) !== ''`, done, first, phaseSrc))
	waitFor("the phase diagram drawn", `document.querySelector('#phase img').complete && document.querySelector('#phase img').naturalWidth > 0`)
	before, beforeDone := eval(phaseSrc), eval(done)
	if shots != "" {
		shoot(t, ctx, filepath.Join(shots, "dashboard-sweep-running.png"))
		run("open the sweeps page", chromedp.EmulateViewport(1280, 330), chromedp.Navigate(base+"/sweeps"),
			chromedp.WaitVisible(chromedp.CSS(`tr[data-sweep="`+id+`"]`)))
		shoot(t, ctx, filepath.Join(shots, "dashboard-sweeps.png"))
		run("restore the viewport", chromedp.EmulateViewport(1280, 900))
		run("back to the sweep", chromedp.Navigate(base+"/sweeps/"+id), chromedp.WaitVisible(chromedp.CSS("#phase img")))
		before, beforeDone = eval(phaseSrc), eval(done)
	}
	marker := eval(`document.body.dataset.marker = "no reload"`) // gone if the page reloads
	g.release(t, 4)
	waitFor("more trials done and a new phase diagram", fmt.Sprintf(`Number(%s) >= %s + 4 && (%s) !== %q`, done, beforeDone, phaseSrc, before))
	waitFor("the new phase diagram drawn", `document.querySelector('#phase img').complete && document.querySelector('#phase img').naturalWidth > 0`)
	if got := eval(`document.body.dataset.marker || ""`); got != marker {
		t.Errorf("the page reloaded to update (marker %q)", got)
	}
	if got := eval(`document.querySelector('#boundary').textContent`); !strings.Contains(got, "incomplete") {
		t.Errorf("the boundary table of a running sweep has no incomplete warning: %q", got)
	}

	// Let the rest run; the page follows the sweep to its end.
	defer g.feed()()
	waitFor("the sweep done", `document.querySelector('h1 .pill').textContent === "done"`)
	if shots != "" {
		waitFor("every figure drawn", `Array.from(document.querySelectorAll('img')).every(i => i.complete && i.naturalWidth > 0)`)
		shoot(t, ctx, filepath.Join(shots, "dashboard-sweep.png"))
	}

	// A trial's page shows its parameters, result and trajectory.
	if shots == "" {
		// Follow the fifth row's link by its href rather than a click: the
		// list's live part may be swapped in between finding the node and
		// clicking it.
		run("list the finished trials", chromedp.Navigate(base+"/sweeps/"+id+"/trials?state=done"),
			chromedp.WaitVisible(chromedp.CSS("table.trials tbody tr:nth-child(5) a")))
		href := eval(`document.querySelector("table.trials tbody tr:nth-child(5) a").href`)
		run("open a finished trial", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS("#trajectory img")))
	} else { // one at the edge of stability: d = 200, η ≈ 4.6 × 8π/d²
		run("open a trial at the edge of stability", chromedp.Navigate(base+"/sweeps/"+id+"/trials/"+nearest(t, c, id, 200, 2.9e-3)),
			chromedp.WaitVisible(chromedp.CSS("#trajectory img")))
	}
	waitFor("the trajectory drawn", `document.querySelector('#trajectory img').complete && document.querySelector('#trajectory img').naturalWidth > 0`)
	if got := eval(`document.querySelector('#result').textContent`); !strings.Contains(got, "final_bias") || !strings.Contains(got, "max_eos_ratio_after_init") {
		t.Errorf("the trial's result: %q", got)
	}
	if shots != "" {
		shoot(t, ctx, filepath.Join(shots, "dashboard-trial.png"))
	}

	run("open the workers page", chromedp.Navigate(base+"/workers"), chromedp.WaitVisible(chromedp.CSS("h1")))

	// The session cookie is HttpOnly: the page's scripts cannot read it.
	if got := eval(`document.cookie`); got != "" {
		t.Errorf("document.cookie = %q, want nothing (HttpOnly)", got)
	}
	run("leave", chromedp.Navigate("about:blank"))
	if errs := console.errors(); len(errs) > 0 {
		t.Errorf("the browser console had errors:\n%s", strings.Join(errs, "\n"))
	}
}

// nearest is the id of the sweep's seed-0 trial of the width whose η is
// nearest eta (in log η).
func nearest(t *testing.T, c *coordinator.Coordinator, sweep string, width, eta float64) string {
	t.Helper()
	trials, err := c.Scheduler.Trials(sweep)
	if err != nil {
		t.Fatal(err)
	}
	best, bestD := "", math.Inf(1)
	for _, tr := range trials {
		if tr.Params["width"] != width || tr.Params["seed"] != 0 {
			continue
		}
		if d := math.Abs(math.Log(tr.Params["eta"] / eta)); d < bestD {
			best, bestD = tr.ID, d
		}
	}
	if best == "" {
		t.Fatalf("no trial of width %g", width)
	}
	return best
}

// shoot writes a full-page PNG screenshot.
func shoot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// findChromium returns the path of a Chromium or Chrome binary, "" for none.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// void drops an action's value.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}
