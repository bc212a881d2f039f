package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
	"github.com/eosweep/eosweep/internal/transport"
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
	// status counts a result once accepted, the metric once it is durable
	// (up to one group commit later).
	testwait.Poll(t, "4 results stored in the metric", 10*time.Second, func() bool {
		return metricValue(scrapeMetrics(t, coordMetrics), "eosweep_results_total", map[string]string{"outcome": "stored"}) == 4
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
		{coord, "grpc_server_handled_total", map[string]string{"grpc_method": "SubmitSweep", "grpc_code": "Unauthenticated"},
			func(v float64) bool { return v == 2 }},
		{coord, "grpc_server_handled_total", map[string]string{"grpc_method": "ReportResult", "grpc_code": "OK"},
			func(v float64) bool { return v >= 1 }},
		{worker, "eosweep_worker_trials_total", nil, func(v float64) bool { return v == 4 }},
		{worker, "eosweep_worker_engine_seconds", nil, func(v float64) bool { return v == 4 }},
		{worker, "grpc_client_handled_total", map[string]string{"grpc_method": "LeaseTrial", "grpc_code": "OK"},
			func(v float64) bool { return v >= 1 }},
	}
	// Each process exports its own metrics only.
	for prefix, fams := range map[string]map[string]*dto.MetricFamily{"eosweep_worker_": coord, "grpc_client_": coord,
		"eosweep_results_total": worker, "eosweep_trials": worker, "grpc_server_": worker} {
		for name := range fams {
			if strings.HasPrefix(name, prefix) {
				t.Errorf("%s exported by the wrong process", name)
			}
		}
	}
	for _, c := range checks {
		if v := metricValue(c.fams, c.name, c.labels); !c.want(v) {
			t.Errorf("%s%v = %v", c.name, fmt.Sprint(c.labels), v)
		}
	}
}

// The transport flags bind into transport's configs, the token read from
// its file or, without one, from EOSWEEP_TOKEN (so not parallel).
func TestTransportFlags(t *testing.T) {
	dir := t.TempDir()
	tokFile, emptyFile := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	if err := os.WriteFile(tokFile, []byte(" from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := func(t *testing.T, args []string) (any, error) {
		var s serverFlags
		return parsed(t, s.bind, args, s.config)
	}
	client := func(t *testing.T, args []string) (any, error) {
		var c clientFlags
		return parsed(t, c.bind, args, c.config)
	}
	tests := []struct {
		name    string
		bind    func(t *testing.T, args []string) (any, error)
		args    []string
		env     string
		want    any
		wantErr error
	}{
		{"server/none", server, nil, "", transport.ServerConfig{}, nil},
		{"server/mutual TLS", server, []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem"}, "",
			transport.ServerConfig{CertFile: "c.pem", KeyFile: "k.pem", ClientCAFile: "ca.pem"}, nil},
		{"server/token file", server, []string{"--token-file", tokFile}, "from-env", transport.ServerConfig{Token: "from-file"}, nil},
		{"server/token from env", server, nil, "from-env", transport.ServerConfig{Token: "from-env"}, nil},
		{"server/empty token file", server, []string{"--token-file", emptyFile}, "", nil, transport.ErrEmptyToken},
		{"client/none", client, nil, "", transport.ClientConfig{}, nil},
		{"client/TLS", client, []string{"--tls-ca", "ca.pem", "--tls-server-name", "coord", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "",
			transport.ClientConfig{CAFile: "ca.pem", ServerName: "coord", CertFile: "c.pem", KeyFile: "k.pem"}, nil},
		{"client/insecure token", client, []string{"--token-file", tokFile, "--insecure-token"}, "",
			transport.ClientConfig{Token: "from-file", AllowInsecureToken: true}, nil},
		{"client/token from env", client, []string{"--tls-ca", "ca.pem"}, "from-env", transport.ClientConfig{CAFile: "ca.pem", Token: "from-env"}, nil},
		{"client/missing token file", client, []string{"--token-file", filepath.Join(dir, "gone")}, "", nil, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(transport.TokenEnv, tt.env)
			got, err := tt.bind(t, tt.args)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("config() error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// parsed binds flags on a fresh flag set, parses args and returns config().
func parsed[C any](t *testing.T, bind func(*pflag.FlagSet), args []string, config func() (C, error)) (any, error) {
	t.Helper()
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	bind(flags)
	if err := flags.Parse(args); err != nil {
		t.Fatal(err)
	}
	return config()
}
