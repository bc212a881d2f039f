package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/eosweep/eosweep/deploy/internal/trialscsv"
)

// sweepSpec is the sweep run through the faults: 144 sparse trials of
// 0.2–4 s each, long enough on 2 cores for the faults to land mid-sweep.
const sweepSpec = `name: k8s-e2e
model: sparse
grid:
  eta: {logspace: [3.0e-4, 3.0e-3, 6]}
  seed: {range: [0, 24]}
params: {width: 200, horizon: 40}
`

const sweepTrials = 144

func TestKubernetes(t *testing.T) {
	if os.Getenv("EOSWEEP_K8S_E2E") != "1" {
		t.Skip("SKIPPED: set EOSWEEP_K8S_E2E=1 to run deploy/k8s on a real single-node Kubernetes (needs root, cgroups, Docker)")
	}
	preflight(t)
	tm := newTimer(t)
	ctx := abortContext(t)
	bins := ensureBinaries(ctx, t)
	tm.mark("Kubernetes and CoreDNS binaries (built or cached)")

	work := workDir(t)
	before := readHost(t)
	checkNetworkFree(t)
	setupNetwork(t, before)
	makeCgroupRoot(t)
	images, client := buildImages(ctx, t, work)
	tm.mark("eosweep and pause images")

	c := boot(ctx, t, bins, work, images)
	tm.mark("cluster boot to node Ready and DNS")
	t.Cleanup(func() {
		if t.Failed() {
			c.logTails(25)
			out, _ := c.kubectlCtx(context.Background(), "get", "nodes,pods,events", "-A", "-o", "wide")
			t.Logf("cluster state:\n%s", out)
		}
	})
	t.Cleanup(c.drain) // runs first: the kubelet stops the pods itself
	checkContainment(t, c)

	r := newRecipe(t, c, client)
	r.deploy()
	tm.mark("apply to coordinator and workers Ready")
	checkContainment(t, c)
	checkPodRoutes(t, before)

	r.sweepThroughFaults()
	tm.mark("sweep through faults")
}

// preflight skips, saying why, where the cluster cannot run.
func preflight(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: Kubernetes needs Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: needs root (a bridge, network namespaces, cgroups, mounts)")
	}
	for prog, pkg := range map[string]string{
		"etcd": "etcd-server", "containerd": "containerd", "containerd-shim-runc-v2": "containerd",
		"ctr": "containerd", "runc": "runc", "docker": "docker.io", "ip": "iproute2", "ss": "iproute2",
		"nft": "nftables", "iptables": "iptables", "iptables-save": "iptables", "iptables-restore": "iptables",
		"openssl": "openssl", "go": "golang",
	} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("SKIPPED: %s not found (Debian package %s)", prog, pkg)
		}
	}
	dir := cniBinDir()
	for _, plugin := range []string{"bridge", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join(dir, plugin)); dir == "" || err != nil {
			t.Skipf("SKIPPED: CNI plugin %s not in %v (Debian package containernetworking-plugins)", plugin, cniBinDirs)
		}
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: no Docker daemon (the image is built with deploy/build.sh): %v %s", err, tail(string(out), 3))
	}
	if _, _, err := cgroupHierarchies(); err != nil {
		t.Skipf("SKIPPED: %v", err)
	}
}

// workDir makes the run's directory. On success it is removed; on failure
// only its logs are kept, and their place is logged.
func workDir(t *testing.T) string {
	t.Helper()
	work, err := os.MkdirTemp(filepath.Dir(workPrefix), filepath.Base(workPrefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unmountUnder(t, work)
		if t.Failed() {
			keep := work + "-logs"
			if err := os.Rename(filepath.Join(work, "logs"), keep); err == nil {
				t.Logf("logs of the failed run kept in %s", keep)
			}
		}
		if err := os.RemoveAll(work); err != nil {
			t.Errorf("teardown: remove %s: %v", work, err)
		}
	})
	return work
}

// buildImages builds the eosweep image with deploy/build.sh (also keeping
// the client binary) and the pause image, and returns them as "DOCKER=CLUSTER"
// image names for importImage and the client's path.
func buildImages(ctx context.Context, t *testing.T, work string) ([]string, string) {
	t.Helper()
	bin := filepath.Join(work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("k8s-e2e-%d", os.Getpid())
	client := filepath.Join(bin, "eosweep")
	if out, err := run(ctx, []string{"EOSWEEP_BIN=" + client}, "", "bash", "../build.sh", "eosweep:"+tag); err != nil {
		t.Fatalf("deploy/build.sh: %v\n%s", err, out)
	}
	pauseDir := filepath.Join(work, "pause-image")
	if err := os.MkdirAll(pauseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	buildPause(t, pauseDir)
	if err := os.WriteFile(filepath.Join(pauseDir, "Dockerfile"), []byte("FROM scratch\nCOPY pause /pause\nENTRYPOINT [\"/pause\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pause := "eosweep-e2e/pause:" + tag
	if out, err := run(ctx, []string{"DOCKER_BUILDKIT=0"}, "", "docker", "build", "-q", "-t", pause, pauseDir); err != nil {
		t.Fatalf("pause image: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = run(context.Background(), nil, "", "docker", "rmi", "-f", "eosweep:"+tag, pause) })
	return []string{"eosweep:" + tag + "=docker.io/library/eosweep:dev", pause + "=" + pauseImage}, client
}

// drain deletes what the recipe made and waits until the kubelet has
// stopped every pod (so it tears down their networks and volumes itself).
func (c *cluster) drain() {
	c.t.Helper()
	bg := context.Background()
	if _, err := c.kubectlCtx(bg, "delete", "namespace", "eosweep", "--ignore-not-found", "--timeout=2m"); err != nil {
		c.t.Logf("teardown: %v", err)
	}
	_, _ = c.kubectlCtx(bg, "delete", "persistentvolume", "--all", "--timeout=1m")
	_, _ = c.kubectlCtx(bg, "delete", "priorityclass", "eosweep-coordinator", "--ignore-not-found")
}

// checkContainment fails the test for any socket one of the cluster's
// processes listens on outside loopback and the cluster's bridge.
func checkContainment(t *testing.T, c *cluster) {
	t.Helper()
	pids := map[int]string{}
	for _, p := range c.watch {
		pids[p.cmd.Process.Pid] = p.name
	}
	out, err := exec.Command("ss", "-Hlntup").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	n := 0
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		f := strings.Fields(sc.Text())
		if len(f) < 7 {
			continue
		}
		for pid, name := range pids {
			if !strings.Contains(f[6], fmt.Sprintf("pid=%d,", pid)) {
				continue
			}
			n++
			host, _, _ := net.SplitHostPort(f[4])
			if ip := net.ParseIP(strings.Split(host, "%")[0]); ip == nil || !(ip.IsLoopback() || ip.String() == nodeIP) {
				t.Errorf("%s listens on %s %s: only loopback and %s are allowed", name, f[0], f[4], nodeIP)
			}
		}
	}
	t.Logf("containment: %d listening sockets of the cluster's processes, all on loopback or %s", n, nodeIP)
}

// checkPodRoutes fails the test if a pod network namespace has a default
// route or a route outside the pod and service ranges.
func checkPodRoutes(t *testing.T, before hostState) {
	t.Helper()
	entries, _ := os.ReadDir("/run/netns")
	_, pods, _ := net.ParseCIDR(podCIDR)
	_, services, _ := net.ParseCIDR(serviceCIDR)
	n := 0
	for _, e := range entries {
		if slices.Contains(before.netns, e.Name()) || !strings.HasPrefix(e.Name(), "cni-") {
			continue
		}
		out, err := exec.Command("ip", "-n", e.Name(), "-4", "route", "show").Output()
		if err != nil {
			continue // a pod gone meanwhile
		}
		n++
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			dst := f[0]
			_, cidr, err := net.ParseCIDR(dst)
			if err != nil || !(pods.Contains(cidr.IP) || services.Contains(cidr.IP)) {
				t.Errorf("pod network %s has route %q: pods may reach only %s and %s", e.Name(), strings.TrimSpace(line), podCIDR, serviceCIDR)
			}
		}
	}
	if n == 0 {
		t.Errorf("no pod network namespace found in /run/netns")
	}
	t.Logf("containment: %d pod networks, routes only to %s and %s, no default route", n, podCIDR, serviceCIDR)
}

// recipe runs the README's Kubernetes recipe against the cluster.
type recipe struct {
	t      *testing.T
	c      *cluster
	dir    string // holds deploy/, examples/, the TLS files and the token
	env    []string
	client string
	port   int   // the port-forward's local port
	pf     *proc // the running port-forward
	sweep  string
}

func newRecipe(t *testing.T, c *cluster, client string) *recipe {
	t.Helper()
	dir := filepath.Join(c.work, "recipe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"deploy", "examples"} {
		if err := os.Symlink(filepath.Join(repo, d), filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Dir(client)
	if err := os.Symlink(c.bins.kube["kubectl"], filepath.Join(bin, "kubectl")); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PATH=" + bin + ":" + os.Getenv("PATH")}, c.env...)
	return &recipe{t: t, c: c, dir: dir, env: env, client: client, port: freePort(t, "127.0.0.1")}
}

// sh runs one recipe command with bash in the recipe directory.
func (r *recipe) sh(s step) string {
	r.t.Helper()
	out, err := r.shErr(s.command())
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *recipe) shErr(command string) (string, error) {
	return run(r.c.ctx, r.env, r.dir, "bash", "-c", "set -euo pipefail; "+command)
}

// deploy runs the README's recipe up to coordinator and workers Ready.
func (r *recipe) deploy() {
	for _, s := range tlsRecipe {
		r.sh(s)
	}
	start := time.Now()
	r.sh(applyNamespace)
	// Server-side, strict: every field known to the apiserver, every object
	// admitted (Pod Security "restricted" included), nothing to warn about.
	out := r.sh(dryRun)
	if strings.Contains(strings.ToLower(out), "warning") {
		r.t.Errorf("server-side dry run warns:\n%s", out)
	}
	r.t.Logf("strict server-side dry run clean:\n%s", strings.TrimSpace(out))
	r.sh(secretToken)
	r.sh(secretTLS)

	// No provisioner here: the README's local volume, in a directory of the run.
	data := filepath.Join(r.c.work, "volumes", "eosweep")
	pv, err := os.ReadFile("../k8s/local/data-pv.yaml")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "data-pv.yaml"), []byte(strings.ReplaceAll(string(pv), "/var/lib/eosweep", data)), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.sh(step{run: "install -d -o 65532 -g 65532 -m 0700 " + data})
	r.sh(step{run: "kubectl apply -f data-pv.yaml"})

	r.sh(applyWorkloads)
	r.sh(rolloutCoord)
	r.sh(rolloutWorkers)
	r.t.Logf("apply: coordinator and %d workers Ready %v after the namespace", len(r.workers(true)), time.Since(start).Round(100*time.Millisecond))
	r.startPortForward()
}

// flags are the client's connection flags, as the README gives them.
func (r *recipe) flags() []string {
	return []string{"--coordinator", fmt.Sprintf("127.0.0.1:%d", r.port), "--tls-ca", "ca.crt",
		"--tls-server-name", "eosweep-coordinator", "--token-file", "token"}
}

func (r *recipe) eosweep(args ...string) (string, error) {
	return run(r.c.ctx, nil, r.dir, r.client, append(args, r.flags()...)...)
}

// startPortForward runs the README's port-forward (on a free local port) and
// waits until the coordinator answers through it.
func (r *recipe) startPortForward() {
	r.t.Helper()
	if r.pf != nil {
		r.pf.stop(r.t, 5*time.Second)
	}
	r.pf = start(r.t, r.c.logs, "port-forward", r.c.env, 5*time.Second, r.c.bins.kube["kubectl"],
		"-n", "eosweep", "port-forward", "--address=127.0.0.1", "svc/eosweep-coordinator", fmt.Sprintf("%d:7870", r.port))
	waitFor(r.c.ctx, r.t, "the coordinator through kubectl port-forward", 2*time.Minute, append(slices.Clone(r.c.watch), r.pf), func() (bool, error) {
		_, err := r.eosweep("health", "--timeout=2s")
		return err == nil, err
	})
}

// sweepStatus is the part of `eosweep status --json` the test reads.
type sweepStatus struct {
	State  string `json:"state"`
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
}

func (r *recipe) status() sweepStatus {
	var s sweepStatus
	if out, err := r.eosweep("status", r.sweep, "--json"); err == nil {
		_ = json.Unmarshal([]byte(out), &s)
	}
	return s // zero while the coordinator is away
}

func (r *recipe) waitDone(n int, limit time.Duration) {
	r.t.Helper()
	waitFor(r.c.ctx, r.t, fmt.Sprintf("%d trials done", n), limit, r.c.watch, func() (bool, error) { return r.status().Done >= n, nil })
}

// sweepThroughFaults submits the sweep through the port-forward and, while
// it runs, kills a worker's process, deletes a worker pod, deletes the
// coordinator pod, scales the workers down and past what the node holds,
// and deletes the coordinator again on the full node. Every trial must be
// stored exactly once.
func (r *recipe) sweepThroughFaults() {
	if err := os.WriteFile(filepath.Join(r.dir, "sweep.yaml"), []byte(sweepSpec), 0o644); err != nil {
		r.t.Fatal(err)
	}
	out, err := r.eosweep("submit", "sweep.yaml", "--json")
	if err != nil {
		r.t.Fatal(err)
	}
	var sub struct{ Sweep string }
	if err := json.Unmarshal([]byte(out), &sub); err != nil || sub.Sweep == "" {
		r.t.Fatalf("submit: %v %s", err, out)
	}
	r.sweep = sub.Sweep
	r.t.Logf("sweep %s submitted through kubectl port-forward (%d trials)", r.sweep, sweepTrials)
	start := time.Now()

	r.waitDone(5, 5*time.Minute)
	pods := r.workers(true)
	if len(pods) < 2 {
		r.t.Fatalf("want at least 2 running workers, have %d", len(pods))
	}
	killed, deleted := pods[0], pods[1]
	r.killWorkerProcess(killed)
	r.c.kubectl("-n", "eosweep", "delete", "pod", deleted.name, "--timeout=3m")
	r.t.Logf("deleted worker pod %s (drained and gone) at %d done", deleted.name, r.status().Done)
	r.sh(rolloutWorkers)

	if s := r.status(); s.Done >= sweepTrials {
		r.t.Fatalf("the sweep finished (%d done) before the coordinator was deleted: the campaign is too short for this machine", s.Done)
	}
	r.deleteCoordinator("mid-sweep")

	// Scale down, then as the README does: more workers than the node holds.
	r.c.kubectl("-n", "eosweep", "scale", "deployment/eosweep-worker", "--replicas=1")
	waitFor(r.c.ctx, r.t, "one worker left", 3*time.Minute, r.c.watch, func() (bool, error) { return len(r.workers(false)) == 1, nil })
	r.sh(scale)
	fit := r.workersThatFit()
	waitFor(r.c.ctx, r.t, fmt.Sprintf("%d workers Ready after scaling to 20", fit), 3*time.Minute, r.c.watch, func() (bool, error) {
		return len(r.workers(true)) == fit, nil
	})
	pending := r.pendingWorkers()
	r.t.Logf("scaled 1 → 20 workers: %d Ready (all the node's CPUs hold), %d Pending (%s)", fit, len(pending), strings.Join(uniq(pending), "; "))
	if len(pending) == 0 {
		r.t.Errorf("no worker Pending after scaling past the node's CPUs")
	}
	// The node is full of workers and more are waiting: the coordinator must
	// still come back (its PriorityClass preempts a worker if it must).
	r.deleteCoordinator("on a full node")
	if n := r.preemptions(); n > 0 {
		r.t.Logf("the scheduler preempted %d worker(s) to place the coordinator", n)
	}

	waitFor(r.c.ctx, r.t, "the sweep done", 10*time.Minute, r.c.watch, func() (bool, error) { return r.status().State == "done", nil })
	final := r.status()
	r.t.Logf("sweep done in %v: %+v", time.Since(start).Round(time.Second), final)
	if final.Total != sweepTrials || final.Done != sweepTrials || final.Failed != 0 {
		r.t.Fatalf("sweep ended %+v, want %d trials done, none failed", final, sweepTrials)
	}
	r.checkStoredOnce(sweepTrials)
	// Once more, at rest: the coordinator comes back with the sweep intact.
	r.deleteCoordinator("after the sweep")
	if s := r.status(); s != final {
		r.t.Errorf("after deleting the coordinator the sweep reads %+v, was %+v", s, final)
	}
	r.checkStoredOnce(sweepTrials)
}

// pod is the part of a worker pod the test reads.
type pod struct {
	name, containerID string
	ready             bool
	restarts          int
}

// workers lists the worker pods not being deleted (only Ready ones if ready).
func (r *recipe) workers(ready bool) []pod {
	var list struct {
		Items []struct {
			Metadata struct {
				Name              string
				DeletionTimestamp *string
			}
			Status struct {
				ContainerStatuses []struct {
					ContainerID  string
					Ready        bool
					RestartCount int
				}
			}
		}
	}
	if err := r.c.kubectlJSON(&list, "-n", "eosweep", "get", "pods", "-l", "app.kubernetes.io/name=eosweep-worker"); err != nil {
		return nil
	}
	var out []pod
	for _, it := range list.Items {
		if it.Metadata.DeletionTimestamp != nil {
			continue
		}
		p := pod{name: it.Metadata.Name}
		if cs := it.Status.ContainerStatuses; len(cs) > 0 {
			p.containerID, p.ready, p.restarts = strings.TrimPrefix(cs[0].ContainerID, "containerd://"), cs[0].Ready, cs[0].RestartCount
		}
		if !ready || p.ready {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b pod) int { return strings.Compare(a.name, b.name) })
	return out
}

// killWorkerProcess SIGKILLs the worker process of p through the cluster's
// containerd (the image has no shell to kill it from inside) and waits for
// the kubelet to restart it.
func (r *recipe) killWorkerProcess(p pod) {
	r.t.Helper()
	if _, err := run(r.c.ctx, nil, "", "ctr", "-a", r.c.sock, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", p.containerID); err != nil {
		r.t.Fatal(err)
	}
	done := r.status().Done
	took := waitFor(r.c.ctx, r.t, "the killed worker restarted", 3*time.Minute, r.c.watch, func() (bool, error) {
		for _, q := range r.workers(true) {
			if q.name == p.name && q.restarts > p.restarts {
				return true, nil
			}
		}
		return false, nil
	})
	r.t.Logf("killed the worker process of %s (SIGKILL) at %d done: restarted by the kubelet and Ready after %v", p.name, done, took.Round(100*time.Millisecond))
}

// deleteCoordinator deletes the coordinator's pod and waits until its
// replacement answers through a new port-forward.
func (r *recipe) deleteCoordinator(when string) {
	r.t.Helper()
	done := r.status().Done
	start := time.Now()
	r.c.kubectl("-n", "eosweep", "delete", "pod", "eosweep-coordinator-0", "--timeout=2m")
	waitFor(r.c.ctx, r.t, "the new coordinator pod Ready", 5*time.Minute, r.c.watch, func() (bool, error) {
		out, err := r.c.kubectlErr("-n", "eosweep", "get", "pod", "eosweep-coordinator-0", "-o",
			`jsonpath={.status.phase} {.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="PodScheduled")].message}`)
		if err != nil {
			return false, err
		}
		return strings.HasPrefix(out, "Running True"), fmt.Errorf("coordinator pod: %s", out)
	})
	r.startPortForward()
	r.t.Logf("deleted the coordinator pod %s (%d done): answering again after %v", when, done, time.Since(start).Round(100*time.Millisecond))
}

// workersThatFit is how many worker pods the node's allocatable CPU holds
// beside the coordinator, by their requests.
func (r *recipe) workersThatFit() int {
	r.t.Helper()
	alloc := resource.MustParse(strings.TrimSpace(r.c.kubectl("get", "node", nodeName, "-o", "jsonpath={.status.allocatable.cpu}")))
	coord := resource.MustParse(strings.TrimSpace(r.c.kubectl("-n", "eosweep", "get", "statefulset", "eosweep-coordinator",
		"-o", "jsonpath={.spec.template.spec.containers[0].resources.requests.cpu}")))
	worker := resource.MustParse(strings.TrimSpace(r.c.kubectl("-n", "eosweep", "get", "deployment", "eosweep-worker",
		"-o", "jsonpath={.spec.template.spec.containers[0].resources.requests.cpu}")))
	return int((alloc.MilliValue() - coord.MilliValue()) / worker.MilliValue())
}

// pendingWorkers returns the scheduler's message for each Pending worker.
func (r *recipe) pendingWorkers() []string {
	out := r.c.kubectl("-n", "eosweep", "get", "pods", "-l", "app.kubernetes.io/name=eosweep-worker", "--field-selector=status.phase=Pending",
		"-o", `jsonpath={range .items[*]}{.status.conditions[?(@.type=="PodScheduled")].message}{"\n"}{end}`)
	return strings.FieldsFunc(out, func(r rune) bool { return r == '\n' })
}

// preemptions counts the scheduler's Preempted events in the namespace.
func (r *recipe) preemptions() int {
	out, err := r.c.kubectlErr("-n", "eosweep", "get", "events", "--field-selector=reason=Preempted", "-o", "name")
	if err != nil {
		return 0
	}
	return len(strings.Fields(out))
}

// checkStoredOnce fetches the sweep's trials.csv through the port-forward and
// checks it lists n distinct trials, each once.
func (r *recipe) checkStoredOnce(n int) {
	r.t.Helper()
	dir := filepath.Join(r.c.work, "report-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if _, err := r.eosweep("report", r.sweep, "--out", dir); err != nil {
		r.t.Fatal(err)
	}
	tr, err := trialscsv.Read(filepath.Join(dir, "trials.csv"))
	if err != nil {
		r.t.Fatal(err)
	}
	for k, c := range tr.Listed {
		if c != 1 {
			r.t.Errorf("trial %s stored %d times", k, c)
		}
	}
	if tr.Rows != n || len(tr.Listed) != n {
		r.t.Fatalf("trials.csv lists %d rows of %d distinct trials, want %d", tr.Rows, len(tr.Listed), n)
	}
	r.t.Logf("trials.csv: %d trials, each stored once", n)
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// timer logs how long each phase took, and the total, when the test ends.
type timer struct {
	t     *testing.T
	start time.Time
	last  time.Time
	lines []string
}

func newTimer(t *testing.T) *timer {
	tm := &timer{t: t, start: time.Now(), last: time.Now()}
	t.Cleanup(func() {
		tm.mark("teardown")
		tm.t.Logf("timings:\n  %s\n  total %v", strings.Join(tm.lines, "\n  "), time.Since(tm.start).Round(time.Second))
	})
	return tm
}

// mark ends the phase named what.
func (tm *timer) mark(what string) {
	now := time.Now()
	tm.lines = append(tm.lines, fmt.Sprintf("%-52s %v", what, now.Sub(tm.last).Round(100*time.Millisecond)))
	tm.last = now
}
