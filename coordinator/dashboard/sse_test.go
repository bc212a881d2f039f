package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/fakeclock"
)

func TestWriteEvent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data, want string
	}{
		{"update", "abc", "event: update\ndata: abc\n\n"},
		{"update", "", "event: update\ndata: \n\n"},
		{"update", "two\nlines", "event: update\ndata: two\ndata: lines\n\n"},
		{"gone", "a\r\nb\rc", "event: gone\ndata: a\ndata: bc\n\n"},
	} {
		var b bytes.Buffer
		if err := writeEvent(&b, tc.name, tc.data); err != nil || b.String() != tc.want {
			t.Errorf("writeEvent(%q, %q) = %q, %v; want %q", tc.name, tc.data, b.String(), err, tc.want)
		}
	}
	for _, name := range []string{"", "a\nb", "a\rb"} {
		if err := writeEvent(&bytes.Buffer{}, name, "x"); err == nil {
			t.Errorf("writeEvent(%q): no error", name)
		}
	}
	var b bytes.Buffer
	if err := writeComment(&b, "keep\nalive"); err != nil || b.String() != ": keep alive\n\n" {
		t.Errorf("writeComment: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := writeRetry(&b, 2000); err != nil || b.String() != "retry: 2000\n\n" {
		t.Errorf("writeRetry: %q, %v", b.String(), err)
	}
}

// streamRecorder is a ResponseWriter for an event stream read while it runs.
type streamRecorder struct {
	mu     sync.Mutex
	header http.Header
	code   int
	buf    bytes.Buffer
}

func newStreamRecorder() *streamRecorder { return &streamRecorder{header: http.Header{}} }

func (s *streamRecorder) Header() http.Header { return s.header }
func (s *streamRecorder) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.code == 0 {
		s.code = code
	}
}
func (s *streamRecorder) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.buf.Write(b)
}
func (s *streamRecorder) Flush() {}

type sseEvent struct{ name, data string }

// events parses what was written: the events, and how many comments.
func (s *streamRecorder) events(t *testing.T) ([]sseEvent, int) {
	t.Helper()
	s.mu.Lock()
	text := s.buf.String()
	s.mu.Unlock()
	var out []sseEvent
	comments := 0
	var cur sseEvent
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"):
			comments++
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data += strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, "retry: "):
		default:
			t.Fatalf("stream line %q is no SSE field", line)
		}
	}
	return out, comments
}

// stream runs GET path on d in the background; stop cancels it and
// waits; done is closed when the handler returns.
func stream(t *testing.T, d *Dashboard, path string) (rec *streamRecorder, stop func(), done <-chan struct{}) {
	t.Helper()
	rec = newStreamRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
	}()
	return rec, func() { cancel(); <-ended }, ended
}

// ticker drives a dashboard's event streams: Tick sends one tick and
// returns once the pass it started has ended, so that the test changes
// things only while the stream waits. (A pass that ends its stream does
// not come back: send on ch directly and wait for the handler.)
type ticker struct {
	ch      chan time.Time
	waiting chan struct{}
}

// newTicker drives d's streams; set it up before any stream starts.
func newTicker(d *Dashboard) ticker {
	k := ticker{ch: make(chan time.Time), waiting: make(chan struct{})}
	d.cfg.Ticks = k.ch
	d.hooks.streamWaiting = func(ctx context.Context) {
		select {
		case k.waiting <- struct{}{}:
		case <-ctx.Done():
		}
	}
	return k
}

// ready waits for a stream to finish its pass.
func (k ticker) ready(t *testing.T) {
	t.Helper()
	select {
	case <-k.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("no stream finished a pass within 10 s")
	}
}

func (k ticker) Tick(t *testing.T) {
	t.Helper()
	select {
	case k.ch <- time.Time{}:
	case <-time.After(10 * time.Second):
		t.Fatal("no stream took the tick within 10 s")
	}
	k.ready(t)
}

// sseSetup is a dashboard over a fake sweep of testSpec, its streams
// driven by ticks.
func sseSetup(t *testing.T) (*fakeSource, *Dashboard, *fakeclock.Clock, ticker) {
	t.Helper()
	src := newFakeSource()
	src.addSweep(t, "s1", testSpec, specTrials(t, "s1", testSpec))
	clk := fakeclock.New()
	d, err := New(Config{Source: src, Now: clk.Now, AnalyseEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return src, d, clk, newTicker(d)
}

// A sweep's stream sends one update when the sweep changes and none while
// it does not (but for the idle refresh of a running sweep), then "gone"
// when the sweep does.
func TestSweepEvents(t *testing.T) {
	t.Parallel()
	src, d, clk, ticks := sseSetup(t)
	rec, stop, done := stream(t, d, "/events?view=sweep&id=s1")
	defer stop()
	want := func(n int, when string) []sseEvent {
		t.Helper()
		evs, _ := rec.events(t)
		if len(evs) != n {
			t.Fatalf("%s: %d events %v, want %d", when, len(evs), evs, n)
		}
		return evs
	}
	ticks.ready(t)
	first := want(1, "at the start")[0]
	if first.name != "update" || first.data == "" {
		t.Fatalf("first event %+v", first)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	ticks.Tick(t)
	want(1, "no change")

	trials := specTrials(t, "s1", testSpec)
	r := runTrial(t, "single", trials[0])
	src.set("s1", 0, store.Done, &r)
	clk.Advance(time.Second)
	ticks.Tick(t)
	evs := want(2, "a trial done")
	if evs[1].data == first.data {
		t.Errorf("the update after a change has the same data %q", first.data)
	}
	for range idleEvery - 1 {
		ticks.Tick(t)
	}
	want(2, "no change for idleEvery-1 passes")
	ticks.Tick(t)
	if evs := want(3, "no change for idleEvery passes"); evs[2].data != evs[1].data {
		t.Errorf("idle update %q differs from the last %q", evs[2].data, evs[1].data)
	}

	src.mu.Lock()
	src.infos = nil
	src.mu.Unlock()
	ticks.ch <- time.Time{}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream of a sweep that went away did not end")
	}
	if evs := want(4, "the sweep went away"); evs[3].name != "gone" {
		t.Errorf("last event %+v, want gone", evs[3])
	}
}

// A finished sweep's stream stays quiet, with a keep-alive comment now and
// then; closing the dashboard ends it.
func TestFinishedSweepEvents(t *testing.T) {
	t.Parallel()
	src, d, _, ticks := sseSetup(t)
	src.mu.Lock()
	src.infos[0].Sweep.State = store.SweepDone
	src.mu.Unlock()
	rec, stop, ended := stream(t, d, "/events?view=sweep&id=s1")
	defer stop()
	ticks.ready(t)
	for range 4*idleEvery - 1 {
		ticks.Tick(t)
	}
	if evs, comments := rec.events(t); len(evs) != 1 || comments != 0 {
		t.Errorf("after %d quiet passes: %d events, %d comments; want 1 event, no keep-alive yet", 4*idleEvery-1, len(evs), comments)
	}
	ticks.Tick(t)
	if evs, comments := rec.events(t); len(evs) != 1 || comments != 1 {
		t.Errorf("after %d quiet passes: %d events, %d comments; want 1 event and a keep-alive", 4*idleEvery, len(evs), comments)
	}
	_ = stop
	d.Close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the dashboard did not end the stream")
	}
}

// Streams past MaxStreams are refused; a closed one frees its slot.
func TestStreamLimit(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	src.addSweep(t, "s1", testSpec, specTrials(t, "s1", testSpec))
	d, err := New(Config{Source: src, MaxStreams: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ticks := newTicker(d)
	_, stop, _ := stream(t, d, "/events?view=sweeps")
	ticks.ready(t) // the first stream holds its slot
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events?view=sweeps", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("second stream: %d, want 503", rec.Code)
	}
	stop()
	rec2, stop2, _ := stream(t, d, "/events?view=sweeps")
	ticks.ready(t)
	stop2()
	if evs, _ := rec2.events(t); len(evs) != 1 {
		t.Errorf("a stream after the first closed: %d events", len(evs))
	}
}

// The other views' streams: the sweeps list, a trial, the workers.
func TestViewEvents(t *testing.T) {
	t.Parallel()
	src, d, _, ticks := sseSetup(t)
	trials := specTrials(t, "s1", testSpec)
	for _, tc := range []struct {
		path   string
		change func()
	}{
		{"/events?view=sweeps", func() { src.set("s1", 1, store.Leased, nil) }},
		{"/events?view=trial&id=s1&trial=" + trials[2].ID, func() { src.set("s1", 2, store.Failed, nil) }},
		{"/events?view=workers", func() {
			src.mu.Lock()
			src.workers = []WorkerInfo{{ID: "w1", Leases: 2}}
			src.mu.Unlock()
		}},
	} {
		rec, stop, _ := stream(t, d, tc.path)
		ticks.ready(t)
		tc.change()
		ticks.Tick(t)
		ticks.Tick(t)
		stop()
		if evs, _ := rec.events(t); len(evs) != 2 || evs[0].data == evs[1].data {
			t.Errorf("%s: events %v, want two different updates", tc.path, evs)
		}
	}
}
