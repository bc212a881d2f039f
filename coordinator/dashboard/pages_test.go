package dashboard

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
)

// running is a harness with testSpec submitted and in every state: 10
// trials done, 2 failed, 3 leased and the rest pending.
func running(t *testing.T, cfg Config) (*harness, string) {
	t.Helper()
	h := newHarness(t, cfg)
	id := h.submit(testSpec)
	h.finish(10)
	h.fail(2, "engine: the run exploded\nat step 12")
	h.lease(3)
	return h, id
}

func TestPages(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{})
	failed := h.trials(id, store.Failed)
	done := h.trials(id, store.Done)
	pending := h.trials(id, store.Pending)
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"root redirects", "/", nil},
		{"sweeps", "/sweeps", []string{"test-sweep", `href="/sweeps/` + id + `"`, "running", `data-events="/events?view=sweeps"`,
			`<td class="num">10</td>`}},
		{"sweep", "/sweeps/" + id, []string{"test-sweep", `data-count="done">10<`, `data-count="failed">2<`, `data-count="leased">3<`,
			`data-count="pending">3<`, "round</dt><dd>0 of 0", "/figures/phase.svg?v=1", "/figures/overview.svg?v=1",
			"/figures/group-0.svg?v=1", `id="boundary"`, "x0=1", "x0=2", "<td>8</td>", "<td>2</td>", "incomplete:", "1 failed",
			"engine: the run exploded", "Failed trials <span class=\"count\">2", "Leased trials <span class=\"count\">3",
			"in 1m0s", `data-events="/events?id=` + id + `&amp;view=sweep"`}},
		{"sweep, second group", "/sweeps/" + id + "?group=1", []string{"/figures/group-1.svg?v=1", `class="on">x0=2`}},
		{"sweep live part", "/sweeps/" + id + "?part=live", []string{`data-count="done">10<`}},
		{"failed list", "/sweeps/" + id + "/trials?state=failed", []string{"Trials: failed", failed[0].ID[:12], failed[1].ID[:12], "the run exploded"}},
		{"every trial", "/sweeps/" + id + "/trials", []string{"Trials: all", done[0].ID[:12], pending[0].ID[:12]}},
		{"done trial", "/sweeps/" + id + "/trials/" + done[0].ID, []string{done[0].ID, "final_bias", "max_eos_ratio_after_init",
			"steps_run", `<th>eta</th>`, `<th>x0</th>`, "/trials/" + done[0].ID + "/trajectory.svg"}},
		{"failed trial", "/sweeps/" + id + "/trials/" + failed[0].ID, []string{"Last error: engine: the run exploded", "No result yet"}},
		{"workers", "/workers", []string{"worker-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := h.get(tc.path)
			if tc.want == nil {
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sweeps" {
					t.Fatalf("GET %s: %s to %q, want 303 to /sweeps", tc.path, resp.Status, resp.Header.Get("Location"))
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s\n%s", tc.path, resp.Status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			mustContain(t, "GET "+tc.path, body, tc.want...)
			if strings.Contains(tc.path, "part=live") && strings.Contains(body, "<html") {
				t.Errorf("GET %s: the live part holds the whole page", tc.path)
			}
		})
	}
}

// A page that cannot be shown says why, with the status that fits.
func TestPageErrors(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{})
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/sweeps/nope", 404, "unknown sweep"},
		{"/sweeps/" + id + "/trials/nope", 404, "unknown trial"},
		{"/sweeps/" + id + "/trials?state=sleeping", 400, "state: &#34;sleeping&#34;: want pending, leased, done, failed, cancelled or all"},
		{"/sweeps/" + id + "/trials?from=-1", 400, "from: &#34;-1&#34;: want an integer"},
		{"/sweeps/" + id + "/trials?from=99", 400, "from: 99 is not a trial index"},
		{"/sweeps/" + id + "?failed=x", 400, "failed: &#34;x&#34;"},
		{"/sweeps/" + id + "/figures/phase.png", 404, "no such figure"},
		{"/sweeps/" + id + "/figures/group-7.svg", 404, "no such figure"},
		{"/sweeps/" + id + "/figures/group-01.svg", 404, "no such figure"},
		{"/events?view=sweep&id=nope", 404, "unknown sweep"},
		{"/events?view=trial&id=" + id + "&trial=nope", 404, "unknown trial"},
		{"/events?view=everything", 400, "view"},
		{"/nothing", 404, ""},
	} {
		resp, body := h.get(tc.path)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %s %q, want %d with %q", tc.path, resp.Status, clip(body, 400), tc.code, tc.want)
		}
	}
}

// Every figure is an SVG document that loads nothing, and a browser that
// has it gets 304.
func TestFigures(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{})
	done := h.trials(id, store.Done)
	base := "/sweeps/" + id
	h.get(base) // the page's analysis
	for _, path := range []string{base + "/figures/phase.svg?v=1", base + "/figures/overview.svg", base + "/figures/group-0.svg",
		base + "/figures/group-1.svg", base + "/trials/" + done[0].ID + "/trajectory.svg"} {
		resp, body := h.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != figureCSP {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if err := wellFormed(body); err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
		mustContain(t, path, body, "<svg")
		for _, bad := range []string{"<script", "href=\"http", "@font-face"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s holds %q", path, bad)
			}
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag", path)
		}
		if again, _ := h.get(path, "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %s, want 304", path, again.Status)
		}
	}
}

func wellFormed(doc string) error {
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Only GET and HEAD are served, but the login form's POSTs.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{})
	paths := []string{"/sweeps", "/sweeps/" + id, "/sweeps/" + id + "/trials", "/sweeps/" + id + "/figures/phase.svg", "/workers", "/events", "/static/app.js"}
	for _, p := range paths {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			if resp, _ := h.do(m, p); resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %s, want 405", m, p, resp.Status)
			}
		}
		if resp, _ := h.do(http.MethodHead, p); p != "/events" && resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %s", p, resp.Status)
		}
	}
	if info, _ := h.sched.Sweep(id); info.Progress.Done != 10 || info.Sweep.State != store.SweepRunning {
		t.Errorf("after the refused requests: %+v", info.Progress)
	}
}

// Every response forbids other origins, framing and sniffing.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h, id := running(t, Config{})
	for _, p := range []string{"/sweeps", "/sweeps/" + id, "/static/style.css", "/nothing"} {
		resp, _ := h.get(p)
		want := map[string]string{"Content-Security-Policy": pageCSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin"}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", p, k, got, v)
			}
		}
	}
	for _, bad := range []string{"http:", "https:", "*", "unsafe", "data:"} {
		if strings.Contains(pageCSP, bad) {
			t.Errorf("the page CSP allows %q: %s", bad, pageCSP)
		}
	}
}

// The embedded assets are served, with their types.
func TestStatic(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	for path, ct := range map[string]string{"/static/style.css": "text/css", "/static/app.js": "text/javascript", "/static/favicon.svg": "image/svg+xml",
		"/favicon.ico": "image/svg+xml"} {
		resp, body := h.get(path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || len(body) == 0 {
			t.Errorf("GET %s: %s %q (%d bytes)", path, resp.Status, resp.Header.Get("Content-Type"), len(body))
		}
	}
}

// A sweep whose first analysis takes longer than FirstWait is shown at
// once, saying the analysis runs.
func TestPageDoesNotWaitForAnalysis(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	trials := specTrials(t, "s1", testSpec)
	src.addSweep(t, "s1", testSpec, trials)
	r := runTrial(t, "single", trials[0])
	src.set("s1", 0, store.Done, &r)
	hold := make(chan struct{})
	src.onTrials = func() { <-hold }
	d, err := New(Config{Source: src, FirstWait: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sweeps/s1", nil))
	close(hold)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	mustContain(t, "the page", rec.Body.String(), "Analysing 1 finished trials", `data-count="done">1<`)
	info, _ := src.Sweep("s1")
	if s, err := d.an.get(info); err != nil || s.done != 1 {
		t.Errorf("the analysis after the page: %+v, %v", s, err)
	}
}
