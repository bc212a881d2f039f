package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eosweep run serves the dashboard on a free loopback port and says where;
// an empty --http turns it off.
func TestRunServesDashboard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(spec, []byte("name: dash\nmodel: single\ngrid: {eta: [0.5, 1]}\nparams: {steps: 20}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := execute(context.Background(), "run", spec, "--db", filepath.Join(dir, "a.db"), "--quiet", "--workers", "1")
	if err != nil || !strings.Contains(errOut, "dashboard on http://127.0.0.1:") {
		t.Errorf("run: %v\n%s", err, errOut)
	}
	_, errOut, err = execute(context.Background(), "run", spec, "--db", filepath.Join(dir, "b.db"), "--quiet", "--workers", "1", "--http", "")
	if err != nil || strings.Contains(errOut, "dashboard") {
		t.Errorf("run --http '': %v\n%s", err, errOut)
	}
}

// eosweep coordinator --http serves the dashboard after its gRPC address
// line, asks for the coordinator's token, and refuses a bad address.
func TestCoordinatorServesDashboard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("dash-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, out := start(t, nil, "coordinator", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "c.db"),
		"--http", ":0", "--token-file", tokenFile)
	first, _ := out.ReadString('\n')
	second, err := out.ReadString('\n')
	if !strings.HasPrefix(first, "listening on ") || err != nil {
		t.Fatalf("coordinator printed %q, %q (%v)\n%s", first, second, err, p.log())
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(second), "dashboard on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("second line %q: want the dashboard's loopback URL", second)
	}
	for tok, want := range map[string]int{"": http.StatusUnauthorized, "wrong": http.StatusUnauthorized, "dash-token": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, url+"sweeps", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /sweeps with token %q: %s, want %d", tok, resp.Status, want)
		}
		if want == http.StatusOK && !strings.Contains(string(body), "No sweeps yet") {
			t.Errorf("the sweeps page: %q", body)
		}
	}
	p.stop(t)

	_, _, err = execute(context.Background(), "coordinator", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "d.db"), "--http", "nohost")
	if err == nil || !strings.Contains(err.Error(), `dashboard address "nohost"`) {
		t.Errorf("--http nohost: %v", err)
	}
}
