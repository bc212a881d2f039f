package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
	"github.com/eosweep/eosweep/internal/transport/transporttest"
)

// eosweepResult runs a command to completion and returns stdout, stderr and the error.
func eosweepResult(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(proctest.BuildOnce(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// scrapeMetrics fetches and parses a /metrics endpoint.
func scrapeMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// metricValue sums the counter, gauge or histogram count of family name over
// the samples whose labels include want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
	for _, m := range fams[name].GetMetric() {
		match := 0
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; ok && v == lp.GetValue() {
				match++
			}
		}
		if match == len(want) {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

const secretToken = "tok-7f3a9c1e55b2d-never-logged"

// A TLS coordinator with a token refuses clients without the token, with a
// wrong one or without TLS, serves those with both, keeps health checks open,
// exposes its metrics and never logs the token.
func TestSecureClusterProcesses(t *testing.T) {
	pki := transporttest.NewPKI(t)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	wrongFile := filepath.Join(dir, "wrong")
	for f, v := range map[string]string{tokFile: secretToken + "\n", wrongFile: "tok-wrong\n"} {
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	healthAddr, coordMetrics, workerMetrics := proctest.FreeAddr(t), proctest.FreeAddr(t), proctest.FreeAddr(t)
	coord, addr := startCoordinator(t, filepath.Join(dir, "c.db"), "127.0.0.1:0",
		"--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey, "--token-file", tokFile,
		"--health-listen", healthAddr, "--metrics-listen", coordMetrics)
	spec := writeSpec(t, dir, "name: secure\nmodel: single\ngrid: {eta: [0.5, 1, 1.5, 2.5]}\nparams: {steps: 40}\n")
	tlsArgs := []string{"--coordinator", addr, "--tls-ca", pki.CAFile}

	refused := []struct {
		name string
		args []string
		want string
	}{
		{"no token", tlsArgs, "Unauthenticated"},
		{"wrong token", append(tlsArgs, "--token-file", wrongFile), "Unauthenticated"},
		{"plaintext", []string{"--coordinator", addr, "--token-file", tokFile, "--insecure-token"}, "Unavailable"},
		{"untrusted CA", []string{"--coordinator", addr, "--tls-ca", pki.RogueCAFile, "--token-file", tokFile}, "Unavailable"},
		{"token without TLS", []string{"--coordinator", addr, "--token-file", tokFile}, "needs TLS"},
	}
	for _, r := range refused {
		_, stderr, err := eosweepResult(t, nil, append([]string{"submit", spec}, r.args...)...)
		if err == nil || !strings.Contains(stderr, r.want) {
			t.Errorf("submit with %s: err=%v, stderr=%q, want refusal with %q", r.name, err, stderr, r.want)
		}
	}
	// The token may also come from the environment.
	out, stderr, err := eosweepResult(t, []string{"EOSWEEP_TOKEN=" + secretToken}, append([]string{"submit", spec, "--json"}, tlsArgs...)...)
	var sub submitOutput
	if err != nil || json.Unmarshal([]byte(out), &sub) != nil {
		t.Fatalf("submit with TLS and the token from the environment: %v\n%s%s", err, out, stderr)
	}
	// Health checks need TLS on the main port but no token; the health port needs neither.
	for _, args := range [][]string{tlsArgs, {"--coordinator", healthAddr}} {
		if out, stderr, err := eosweepResult(t, nil, append([]string{"health"}, args...)...); err != nil || strings.TrimSpace(out) != "SERVING" {
			t.Errorf("health %v: %q, %v\n%s", args, out, err, stderr)
		}
	}

	w, _ := start(t, nil, append([]string{"worker", "--lease-wait", "500ms", "--token-file", tokFile, "--metrics-listen", workerMetrics}, tlsArgs...)...)
	testwait.Poll(t, "4 trials done", 60*time.Second, func() bool {
		out, _, err := eosweepResult(t, nil, append([]string{"status", sub.Sweep, "--json", "--token-file", tokFile}, tlsArgs...)...)
		var st statusOutput
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && st.Done == 4
	})
	checkClusterMetrics(t, scrapeMetrics(t, coordMetrics), scrapeMetrics(t, workerMetrics))
	w.stop(t)
	coord.stop(t)
	for name, log := range map[string]string{"coordinator": coord.log(), "worker": w.log()} {
		if strings.Contains(log, secretToken) {
			t.Errorf("the %s logged the token", name)
		}
	}
}

func checkClusterMetrics(t *testing.T, coord, worker map[string]*dto.MetricFamily) {
	t.Helper()
	checks := []struct {
		fams   map[string]*dto.MetricFamily
		name   string
		labels map[string]string
		want   func(float64) bool
	}{
		{coord, "eosweep_trials", map[string]string{"state": "done"}, func(v float64) bool { return v == 4 }},
		{coord, "eosweep_trials", map[string]string{"state": "pending"}, func(v float64) bool { return v == 0 }},
		{coord, "eosweep_results_total", map[string]string{"outcome": "stored"}, func(v float64) bool { return v == 4 }},
		{coord, "eosweep_lease_expiries_total", nil, func(v float64) bool { return v == 0 }},
		{coord, "eosweep_rpc_server_seconds", map[string]string{"method": "/eosweep.v1.CoordinatorService/SubmitSweep", "code": "Unauthenticated"},
			func(v float64) bool { return v == 2 }},
		{coord, "eosweep_rpc_server_seconds", map[string]string{"method": "/eosweep.v1.CoordinatorService/ReportResult", "code": "OK"},
			func(v float64) bool { return v >= 1 }},
		{worker, "eosweep_worker_trials_total", nil, func(v float64) bool { return v == 4 }},
		{worker, "eosweep_worker_engine_seconds", nil, func(v float64) bool { return v == 4 }},
		{worker, "eosweep_rpc_client_seconds", map[string]string{"method": "/eosweep.v1.CoordinatorService/LeaseTrial", "code": "OK"},
			func(v float64) bool { return v >= 1 }},
	}
	for _, c := range checks {
		if v := metricValue(c.fams, c.name, c.labels); !c.want(v) {
			t.Errorf("%s%v = %v", c.name, fmt.Sprint(c.labels), v)
		}
	}
}
