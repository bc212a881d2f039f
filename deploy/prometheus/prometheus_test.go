package prometheus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"sigs.k8s.io/yaml"

	"github.com/eosweep/eosweep/internal/proctest"
	"github.com/eosweep/eosweep/internal/testwait"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

// proc is an eosweep (or prometheus) process killed when the test ends.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func start(t *testing.T, bin string, args ...string) (*proc, *bufio.Reader) {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stderr = p
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("stderr of %s %v:\n%s", filepath.Base(bin), args, p.output())
		}
	})
	return p, bufio.NewReader(out)
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not stop on SIGTERM", p.cmd.Args)
	}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", u, resp.Status, err, b)
	}
	return b
}

// exported is what one process exports: label names by metric family.
type exported map[string]map[string]bool

func parseExposition(t *testing.T, text []byte) exported {
	t.Helper()
	tp := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := tp.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := exported{}
	for name, f := range fams {
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		out[name] = labels
	}
	return out
}

// sweepSpec is the README's quick example with 20 seeds instead of 3: 200
// trials of 0.1-0.5 s, so that with one slot the worker is stopped well
// before the sweep ends.
const sweepSpec = `name: metrics-mid-sweep
model: sparse
grid:
  eta: {logspace: [2.0e-4, 1.2e-2, 10]}
  seed: {range: [0, 20]}
params: {width: 200, n: 300, lam: 3, horizon: 10}
boundary: {bias_eps: 1.0e-2, refine: {rounds: 2, tolerance: 0.05}}
`

// cluster is a coordinator and a worker on loopback, each with /metrics.
type cluster struct {
	addr, coordMetrics, workerMetrics string
	worker                            *proc
	client                            pb.CoordinatorServiceClient
	sweep                             string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := proctest.BuildOnce(t)
	c := &cluster{coordMetrics: proctest.FreeAddr(t), workerMetrics: proctest.FreeAddr(t)}
	_, out := start(t, bin, "coordinator", "--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "c.db"),
		"--metrics-listen", c.coordMetrics)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("coordinator: %v", err)
	}
	var ok bool
	if c.addr, ok = strings.CutPrefix(strings.TrimSpace(line), "listening on "); !ok {
		t.Fatalf("coordinator printed %q", line)
	}
	conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c.client = pb.NewCoordinatorServiceClient(conn)
	sub, err := c.client.SubmitSweep(context.Background(), &pb.SubmitSweepRequest{SpecYaml: sweepSpec})
	if err != nil {
		t.Fatal(err)
	}
	c.sweep = sub.GetSweep().GetId()
	return c
}

// startWorker starts the cluster's one worker, with one slot.
func (c *cluster) startWorker(t *testing.T) {
	t.Helper()
	c.worker, _ = start(t, proctest.BuildOnce(t), "worker", "--coordinator", c.addr, "--parallel", "1", "--lease-wait", "500ms",
		"--metrics-listen", c.workerMetrics)
}

func (c *cluster) progress(t *testing.T) *pb.Progress {
	t.Helper()
	r, err := c.client.GetSweep(context.Background(), &pb.GetSweepRequest{SweepId: c.sweep})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetSweep().GetProgress()
}

// midSweep waits for a few results, scrapes the worker, stops it (its leases
// go back) and scrapes the coordinator: both mid-sweep, the coordinator's
// numbers now still.
func (c *cluster) midSweep(t *testing.T) (coordText, workerText []byte) {
	t.Helper()
	testwait.Poll(t, "3 results", 60*time.Second, func() bool { return c.progress(t).GetDone() >= 3 })
	workerText = get(t, "http://"+c.workerMetrics+"/metrics")
	c.worker.stop(t)
	p := c.progress(t)
	if p.GetLeased() != 0 || p.GetPending() == 0 {
		t.Fatalf("after the worker stopped: %v, want no lease held and trials pending (the sweep ran too fast to stop mid-way)", p)
	}
	return get(t, "http://"+c.coordMetrics+"/metrics"), workerText
}

func TestMetricsMidSweep(t *testing.T) {
	c := startCluster(t)
	var prom *prometheusServer
	if os.Getenv("EOSWEEP_PROMETHEUS") == "1" {
		prom = startPrometheus(t, c)
	}
	c.startWorker(t)
	if prom != nil {
		prom.waitWorker(t) // scraped while it runs
	}
	coordText, workerText := c.midSweep(t)
	coord, worker := parseExposition(t, coordText), parseExposition(t, workerText)

	t.Run("promtool check metrics", func(t *testing.T) {
		promtool := proctest.Tool(t, "promtool", "apt-get install prometheus")
		for name, text := range map[string][]byte{"coordinator": coordText, "worker": workerText} {
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics on the %s's /metrics: %v\n%s", name, err, out)
			}
		}
	})
	t.Run("each process exports its own", func(t *testing.T) {
		for name := range coord {
			if strings.HasPrefix(name, "eosweep_worker_") || strings.HasPrefix(name, "grpc_client_") {
				t.Errorf("the coordinator exports %s", name)
			}
		}
		for name := range worker {
			if strings.HasPrefix(name, "eosweep_") && !strings.HasPrefix(name, "eosweep_worker_") && name != "eosweep_build_info" {
				t.Errorf("the worker exports %s", name)
			}
			if strings.HasPrefix(name, "grpc_server_") {
				t.Errorf("the worker exports %s", name)
			}
		}
	})
	t.Run("README's metrics table", func(t *testing.T) {
		checkReadmeTable(t, map[string]exported{"coordinator": coord, "worker": worker})
	})
	t.Run("queries name exported metrics", func(t *testing.T) {
		checkQueries(t, merge(coord, worker))
	})
	t.Run("promtool check rules and config", func(t *testing.T) {
		promtool := proctest.Tool(t, "promtool", "apt-get install prometheus")
		for _, args := range [][]string{{"check", "rules", "eosweep-rules.yml"}, {"check", "config", "prometheus.yml"}} {
			if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
				t.Errorf("promtool %v: %v\n%s", args, err, out)
			}
		}
	})
	t.Run("prometheus scrapes the sweep", func(t *testing.T) {
		if prom == nil {
			t.Skip("SKIPPED: set EOSWEEP_PROMETHEUS=1 to scrape the sweep with a real prometheus (.ci/run does)")
		}
		prom.checkProgress(t, c)
	})
}

// checkReadmeTable checks that the README's metrics table lists exactly the
// eosweep_* and grpc_* families each process exports.
func checkReadmeTable(t *testing.T, have map[string]exported) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### Metrics\n")
	if !ok {
		t.Fatal("README.md has no ### Metrics section")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	listed := map[string]map[string]bool{"coordinator": {}, "worker": {}}
	name := regexp.MustCompile("`((?:eosweep|grpc)_[a-z_]+)")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		where := strings.TrimSpace(cells[2])
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			for _, proc := range []string{"coordinator", "worker"} {
				if where == proc || where == "both" {
					listed[proc][m[1]] = true
				}
			}
		}
	}
	for proc, fams := range have {
		for fam := range fams {
			if (strings.HasPrefix(fam, "eosweep_") || strings.HasPrefix(fam, "grpc_")) && !listed[proc][fam] {
				t.Errorf("the %s exports %s, which the README's metrics table does not list for it", proc, fam)
			}
		}
		for fam := range listed[proc] {
			if _, ok := fams[fam]; !ok {
				t.Errorf("the README's metrics table lists %s for the %s, which does not export it", fam, proc)
			}
		}
	}
}

func merge(a, b exported) exported {
	out := exported{}
	for _, e := range []exported{a, b} {
		for name, labels := range e {
			if out[name] == nil {
				out[name] = map[string]bool{}
			}
			for l := range labels {
				out[name][l] = true
			}
		}
	}
	return out
}

// query is one PromQL expression of the dashboard or the rules.
type query struct{ where, expr string }

// queries returns every expression of deploy/grafana/eosweep.json (panel
// targets and template variables) and of eosweep-rules.yml.
func queries(t *testing.T) []query {
	t.Helper()
	var out []query
	b, err := os.ReadFile("../grafana/eosweep.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("eosweep.json: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			out = append(out, query{"dashboard panel " + strconv.Quote(p.Title), tg.Expr})
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((\w+), *(\w+)\)$`)
	for _, v := range dash.Templating.List {
		q, ok := v.Query.(map[string]any)
		if !ok {
			continue
		}
		s, _ := q["query"].(string)
		m := labelValues.FindStringSubmatch(s)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, s)
			continue
		}
		out = append(out, query{"dashboard variable " + v.Name, m[1] + `{` + m[2] + `!=""}`})
	}
	b, err = os.ReadFile("eosweep-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Record      string            `json:"record"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &rules); err != nil {
		t.Fatalf("eosweep-rules.yml: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out = append(out, query{"rule " + r.Alert + r.Record, r.Expr})
		}
	}
	if len(out) < 30 {
		t.Fatalf("found %d queries, fewer than the dashboard and rules hold", len(out))
	}
	return out
}

// grafanaVars are Grafana's variables, replaced by values PromQL parses.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$sweep", ".*")

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = map[string]bool{"job": true, "instance": true}

// generated are the series Prometheus itself makes for every target.
var generated = map[string]bool{"up": true, "scrape_duration_seconds": true}

// checkQueries parses every query with Prometheus' parser and checks that
// each selector names an exported family (a histogram's _bucket, _sum and
// _count included) and matches only labels it has.
func checkQueries(t *testing.T, have exported) {
	p := parser.NewParser(parser.Options{})
	for _, q := range queries(t) {
		expr, err := p.ParseExpr(grafanaVars.Replace(q.expr))
		if err != nil {
			t.Errorf("%s: %q does not parse: %v", q.where, q.expr, err)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			name := vs.Name
			if generated[name] {
				return nil
			}
			labels, ok := have[name]
			if !ok {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, cut := strings.CutSuffix(name, suffix); cut {
						if labels, ok = have[base]; ok {
							labels = withLE(labels, suffix)
							break
						}
					}
				}
			}
			if !ok {
				t.Errorf("%s: %q names %s, which neither binary exports", q.where, q.expr, name)
				return nil
			}
			for _, m := range vs.LabelMatchers {
				if m.Name != "__name__" && !labels[m.Name] && !targetLabels[m.Name] {
					t.Errorf("%s: %q matches label %s, which %s does not have", q.where, q.expr, m.Name, name)
				}
			}
			return nil
		})
	}
}

func withLE(labels map[string]bool, suffix string) map[string]bool {
	out := map[string]bool{}
	for l := range labels {
		if l != "le" || suffix == "_bucket" {
			out[l] = true
		}
	}
	if suffix == "_bucket" {
		out["le"] = true
	}
	return out
}

// prometheusServer is a real prometheus scraping a cluster on loopback.
type prometheusServer struct {
	url string
}

func startPrometheus(t *testing.T, c *cluster) *prometheusServer {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("SKIPPED: no prometheus binary (apt-get install prometheus)")
	}
	dir := t.TempDir()
	writeConfig(t, dir, map[string]string{"eosweep-coordinator": c.coordMetrics, "eosweep-worker": c.workerMetrics})
	addr := proctest.FreeAddr(t)
	p, _ := start(t, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	s := &prometheusServer{url: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-p.done:
			t.Skipf("SKIPPED: prometheus exited at start:\n%s", p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Skipf("SKIPPED: prometheus not ready within a minute:\n%s", p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// writeConfig writes into dir the example prometheus.yml as shipped, with
// each job's targets replaced by targets[job], intervals of one second, and
// the alert rules beside it: the README's recipe on loopback.
func writeConfig(t *testing.T, dir string, targets map[string]string) {
	t.Helper()
	b, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	cfg["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	jobs, _ := cfg["scrape_configs"].([]any)
	seen := 0
	for _, j := range jobs {
		job, _ := j.(map[string]any)
		name, _ := job["job_name"].(string)
		addr, ok := targets[name]
		if !ok {
			t.Fatalf("prometheus.yml: job %q is not one the test knows", name)
		}
		job["static_configs"] = []any{map[string]any{"targets": []any{addr}}}
		seen++
	}
	if seen != len(targets) {
		t.Fatalf("prometheus.yml has %d of the jobs %v", seen, targets)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile("eosweep-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"prometheus.yml": out, "eosweep-rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rules returns the names of the alerting rules Prometheus loaded.
func (s *prometheusServer) rules(t *testing.T) []string {
	t.Helper()
	var resp struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name string `json:"name"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(get(t, s.url+"/api/v1/rules"), &resp); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range resp.Data.Groups {
		for _, r := range g.Rules {
			out = append(out, r.Name)
		}
	}
	return out
}

// waitWorker waits until Prometheus has scraped the running worker.
func (s *prometheusServer) waitWorker(t *testing.T) {
	t.Helper()
	testwait.Poll(t, "prometheus scraped the worker", 60*time.Second, func() bool {
		_, ok := s.scalar(t, `sum(eosweep_worker_trials_total{outcome="ok"})`)
		return ok
	})
}

// vector runs an instant query and returns its samples by the value of label.
func (s *prometheusServer) vector(t *testing.T, q, label string) map[string]float64 {
	t.Helper()
	b := get(t, s.url+"/api/v1/query?query="+url.QueryEscape(q))
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || resp.Status != "success" {
		t.Fatalf("query %s: %v\n%s", q, err, b)
	}
	out := map[string]float64{}
	for _, r := range resp.Data.Result {
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, r.Value)
		}
		out[r.Metric[label]] = v
	}
	return out
}

func (s *prometheusServer) scalar(t *testing.T, q string) (float64, bool) {
	t.Helper()
	v, ok := s.vector(t, q, "")[""]
	return v, ok
}

// checkProgress: once the coordinator's numbers are still, Prometheus'
// per-sweep queries (the dashboard's) give them exactly.
func (s *prometheusServer) checkProgress(t *testing.T, c *cluster) {
	if r := s.rules(t); len(r) < 7 {
		t.Errorf("prometheus loaded the rules %v, want the 7 of eosweep-rules.yml", r)
	}
	p := c.progress(t)
	want := map[string]float64{"pending": float64(p.GetPending()), "leased": float64(p.GetLeased()), "done": float64(p.GetDone()),
		"failed": float64(p.GetFailed()), "cancelled": float64(p.GetCancelled())}
	byState := fmt.Sprintf(`sum by (state) (eosweep_sweep_trials{sweep=%q})`, c.sweep)
	var got map[string]float64
	testwait.Poll(t, "prometheus sees the coordinator's numbers", 30*time.Second, func() bool {
		got = s.vector(t, byState, "state")
		return fmt.Sprint(got) == fmt.Sprint(want)
	})
	t.Logf("%s = %v (GetSweep: %v)", byState, got, p)
	fraction := fmt.Sprintf(`sum by (sweep) (eosweep_sweep_trials{sweep=%q, state=~"done|failed"}) / sum by (sweep) (eosweep_sweep_trials{sweep=%q})`, c.sweep, c.sweep)
	if v := s.vector(t, fraction, "sweep")[c.sweep]; v != float64(p.GetDone()+p.GetFailed())/float64(p.GetTotal()) {
		t.Errorf("%s = %v, want %d/%d", fraction, v, p.GetDone()+p.GetFailed(), p.GetTotal())
	}
	stored := `last_over_time(eosweep_results_total{outcome="stored"}[5m])`
	if v, ok := s.scalar(t, "sum("+stored+")"); !ok || v != float64(p.GetDone()) {
		t.Errorf("sum(%s) = %v, %v; want %d", stored, v, ok, p.GetDone())
	}
	ran := `last_over_time(eosweep_worker_trials_total{outcome="ok"}[5m])`
	if v, ok := s.scalar(t, "sum("+ran+")"); !ok || v < 1 || v > float64(p.GetDone()) {
		t.Errorf("sum(%s) = %v, %v; want between 1 and %d (the worker's last scrape)", ran, v, ok, p.GetDone())
	}
}
