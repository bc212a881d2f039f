package dashboard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/internal/transport/transporttest"
)

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"7873":         "127.0.0.1:7873",
		":7873":        "127.0.0.1:7873",
		":0":           "127.0.0.1:0",
		"0.0.0.0:7873": "0.0.0.0:7873",
		"[::1]:80":     "[::1]:80",
		"host:80":      "host:80",
	} {
		if got, err := ListenAddr(in); err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "host", "70000x", "a:b:c"} {
		if got, err := ListenAddr(bad); err == nil {
			t.Errorf("ListenAddr(%q) = %q, want an error", bad, got)
		}
	}
}

// Serve listens on loopback for a bare port, serves HTTPS with the
// coordinator's certificate, and Shutdown ends open event streams.
func TestServe(t *testing.T) {
	t.Parallel()
	pki := transporttest.NewPKI(t)
	src := newFakeSource()
	src.addSweep(t, "s1", testSpec, specTrials(t, "s1", testSpec))
	d, err := New(Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Serve(d, ":0", pki.ServerCert, pki.ServerKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Errorf("URL %s: want https on 127.0.0.1", srv.URL())
	}
	ca, err := os.ReadFile(pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := cl.Get(srv.URL() + "sweeps")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "test-sweep") {
		t.Errorf("GET /sweeps over TLS: %s", resp.Status)
	}
	stream, err := cl.Get(srv.URL() + "events?view=sweeps")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown with a stream open: %v", err)
	}
	if _, err := Serve(d, ":0", pki.ServerCert, "", nil); err == nil {
		t.Error("a certificate without its key was accepted")
	}
	if _, err := Serve(d, ":0", pki.ServerKey, pki.ServerKey, nil); err == nil {
		t.Error("a key as certificate was accepted")
	}
}

// Whatever a sweep, trial or error holds is shown as text, never as markup.
func TestEscaped(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	evil := `<script>alert("x")</script>`
	trials := specTrials(t, "s1", testSpec)
	src.addSweep(t, "s1", testSpec, trials)
	src.mu.Lock()
	src.infos[0].Sweep.Name = evil
	src.trials["s1"][0].State, src.trials["s1"][0].LastError = store.Failed, evil
	src.mu.Unlock()
	src.set("s1", 0, store.Failed, nil)
	d, err := New(Config{Source: src, FirstWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, path := range []string{"/sweeps", "/sweeps/s1", "/sweeps/s1/trials?state=failed", "/sweeps/s1/trials/" + trials[0].ID} {
		body := serve(t, d, path)
		if strings.Contains(body, "<script>alert") {
			t.Errorf("GET %s holds the markup unescaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the text", path)
		}
	}
}

func serve(t *testing.T, d *Dashboard, path string) string {
	t.Helper()
	rec := newStreamRecorder()
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.code, rec.buf.String())
	}
	return rec.buf.String()
}

// A sweep's page lists a page of its failed trials, however many there
// are, and links to the next.
func TestListsPaged(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	trials := specTrials(t, "s1", testSpec)
	var many []store.Trial
	for i := range 5000 {
		tr := trials[i%len(trials)]
		tr.ID, tr.Seq = fmt.Sprintf("t%05d", i), i
		if i%5 == 0 {
			tr.State, tr.LastError = store.Failed, "boom"
		}
		many = append(many, tr)
	}
	src.addSweep(t, "s1", testSpec, many)
	d, err := New(Config{Source: src, FirstWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	body := serve(t, d, "/sweeps/s1")
	if n := strings.Count(body, ">boom<"); n != listPage {
		t.Errorf("the sweep page lists %d failed trials, want %d", n, listPage)
	}
	mustContain(t, "the sweep page", body, `Failed trials <span class="count">1000`, `href="/sweeps/s1?failed=100"`)
	next := serve(t, d, "/sweeps/s1?failed=100")
	mustContain(t, "the next page", next, "t00100", "t00195", `href="/sweeps/s1?failed=200"`)
	if strings.Contains(next, "t00095") {
		t.Error("the next page repeats the first")
	}
	list := serve(t, d, "/sweeps/s1/trials?state=failed&from=4900")
	if n := strings.Count(list, ">boom<"); n != 20 || strings.Contains(list, "next ") {
		t.Errorf("the last page of failed trials: %d rows (want 20), next link %v", n, strings.Contains(list, "next "))
	}
	if len(body) > 64<<10 {
		t.Errorf("the sweep page of 5000 trials is %d bytes", len(body))
	}
}
