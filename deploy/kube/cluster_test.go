package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"
)

// cluster is a single-node Kubernetes made of host processes: etcd, the
// control plane, a containerd of its own, a kubelet, kube-proxy and CoreDNS.
type cluster struct {
	t          *testing.T
	ctx        context.Context // ends the bring-up and the test's waits early (abortContext)
	work       string          // everything of the run lives here
	logs       string
	bins       binaries
	kubeconfig string   // the admin's
	env        []string // KUBECONFIG for kubectl
	sock       string   // the cluster's containerd socket
	watch      []*proc  // daemons that must stay up
}

// pauseImage is the pod sandbox image of the cluster's containerd.
const pauseImage = "docker.io/eosweep-e2e/pause:1"

// ports are the cluster's listening ports, picked free at boot.
type ports struct {
	Etcd, EtcdPeer, API, ControllerManager, Scheduler   int
	Kubelet, KubeletHealthz, ProxyHealthz, ProxyMetrics int
	DNSHealth, DNSReady                                 int
}

// boot brings the cluster up, each daemon's stop registered as a cleanup (so
// teardown runs in the reverse order), and returns once the node is Ready
// and cluster DNS answers.
func boot(ctx context.Context, t *testing.T, bins binaries, work string, images []string) *cluster {
	t.Helper()
	c := &cluster{t: t, ctx: ctx, work: work, logs: filepath.Join(work, "logs"), bins: bins}
	for _, d := range []string{c.logs, c.path("cni/net.d"), c.path("kubelet"), c.path("etcd")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	p := ports{
		Etcd: freePort(t, "127.0.0.1"), EtcdPeer: freePort(t, "127.0.0.1"), API: freePort(t, nodeIP),
		ControllerManager: freePort(t, "127.0.0.1"), Scheduler: freePort(t, "127.0.0.1"),
		Kubelet: freePort(t, nodeIP), KubeletHealthz: freePort(t, "127.0.0.1"),
		ProxyHealthz: freePort(t, "127.0.0.1"), ProxyMetrics: freePort(t, "127.0.0.1"),
		DNSHealth: freePort(t, "127.0.0.1"), DNSReady: freePort(t, "127.0.0.1"),
	}
	ca := newPKI(t, c.path("pki"))
	server := fmt.Sprintf("https://%s:%d", nodeIP, p.API)
	apiCert, apiKey := ca.issue(t, "apiserver", "kube-apiserver", nil, nodeIP, "127.0.0.1", apiService,
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost")
	kubeletClientCert, kubeletClientKey := ca.issue(t, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"})
	kubeletCert, kubeletKey := ca.issue(t, "kubelet-serving", "system:node:"+nodeName, []string{"system:nodes"}, nodeIP, "127.0.0.1", nodeName)
	saPub, saKey := ca.keyPair(t, "service-accounts")
	c.kubeconfig = c.writeKubeconfig(ca, server, "admin", "eosweep-e2e-admin", "system:masters")
	c.env = []string{"KUBECONFIG=" + c.kubeconfig}
	cmKubeconfig := c.writeKubeconfig(ca, server, "controller-manager", "system:kube-controller-manager")
	schedKubeconfig := c.writeKubeconfig(ca, server, "scheduler", "system:kube-scheduler")
	kubeletKubeconfig := c.writeKubeconfig(ca, server, "kubelet", "system:node:"+nodeName, "system:nodes")
	proxyKubeconfig := c.writeKubeconfig(ca, server, "kube-proxy", "system:kube-proxy")
	dnsKubeconfig := c.writeKubeconfig(ca, server, "coredns", "eosweep-e2e:coredns")

	start := time.Now()
	etcd := c.daemon("etcd", 10*time.Second, "etcd", "--name=eosweep-e2e", "--data-dir="+c.path("etcd"),
		fmt.Sprintf("--listen-client-urls=http://127.0.0.1:%d", p.Etcd),
		fmt.Sprintf("--advertise-client-urls=http://127.0.0.1:%d", p.Etcd),
		fmt.Sprintf("--listen-peer-urls=http://127.0.0.1:%d", p.EtcdPeer),
		fmt.Sprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", p.EtcdPeer),
		fmt.Sprintf("--initial-cluster=eosweep-e2e=http://127.0.0.1:%d", p.EtcdPeer))
	waitFor(ctx, t, "etcd healthy", time.Minute, []*proc{etcd}, func() (bool, error) {
		return httpOK(fmt.Sprintf("http://127.0.0.1:%d/health", p.Etcd))
	})
	api := c.daemon("kube-apiserver", 30*time.Second, bins.kube["kube-apiserver"],
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", p.Etcd),
		"--bind-address="+nodeIP, "--advertise-address="+nodeIP, fmt.Sprintf("--secure-port=%d", p.API),
		"--tls-cert-file="+apiCert, "--tls-private-key-file="+apiKey, "--client-ca-file="+ca.caFile(),
		"--kubelet-client-certificate="+kubeletClientCert, "--kubelet-client-key="+kubeletClientKey,
		"--kubelet-certificate-authority="+ca.caFile(), "--kubelet-preferred-address-types=InternalIP",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range="+serviceCIDR, "--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction", "--allow-privileged=false", "--profiling=false")
	c.watch = []*proc{etcd, api}
	waitFor(ctx, t, "kube-apiserver ready", 2*time.Minute, c.watch, func() (bool, error) {
		out, err := c.kubectlErr("get", "--raw=/readyz")
		return err == nil && strings.TrimSpace(out) == "ok", err
	})
	c.kubectlApply(corednsRBAC)
	c.watch = append(c.watch,
		c.daemon("kube-controller-manager", 10*time.Second, bins.kube["kube-controller-manager"],
			"--kubeconfig="+cmKubeconfig, "--authentication-kubeconfig="+cmKubeconfig, "--authorization-kubeconfig="+cmKubeconfig,
			"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", p.ControllerManager), "--leader-elect=false",
			"--service-account-private-key-file="+saKey, "--root-ca-file="+ca.caFile(),
			"--service-cluster-ip-range="+serviceCIDR, "--use-service-account-credentials=true", "--profiling=false"),
		c.daemon("kube-scheduler", 10*time.Second, bins.kube["kube-scheduler"],
			"--kubeconfig="+schedKubeconfig, "--authentication-kubeconfig="+schedKubeconfig, "--authorization-kubeconfig="+schedKubeconfig,
			"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", p.Scheduler), "--leader-elect=false", "--profiling=false"))

	c.writeFile("cni/net.d/10-eosweep.conflist", cniConfig, nil)
	c.writeFile("containerd.toml", containerdConfig, nil)
	c.sock = c.path("containerd/containerd.sock")
	// Shims outlive their containerd: after it stops, kill those still
	// serving this socket (by PID).
	t.Cleanup(func() {
		if n := killByCmdline(c.sock); n > 0 {
			t.Logf("teardown: killed %d containerd shims", n)
		}
	})
	containerd := c.daemon("containerd", 20*time.Second, "containerd", "--config", c.path("containerd.toml"))
	c.watch = append(c.watch, containerd)
	waitFor(ctx, t, "containerd", time.Minute, c.watch, func() (bool, error) {
		_, err := run(ctx, nil, "", "ctr", "-a", c.sock, "version")
		return err == nil, err
	})
	for _, img := range images {
		c.importImage(img)
	}

	c.writeFile("kubelet.yaml", kubeletConfig, map[string]any{"Ports": p, "Cert": kubeletCert, "Key": kubeletKey})
	kubeletFlags := []string{"--config=" + c.path("kubelet.yaml"), "--kubeconfig=" + kubeletKubeconfig,
		"--root-dir=" + c.path("kubelet"), "--cert-dir=" + c.path("kubelet/pki"),
		"--hostname-override=" + nodeName, "--node-ip=" + nodeIP, "--v=1"}
	// After the kubelet stops: stop whatever container it left running.
	t.Cleanup(c.killContainers)
	c.watch = append(c.watch, c.daemon("kubelet", 30*time.Second, bins.kube["kubelet"], kubeletFlags...))
	ready := waitFor(ctx, t, "node Ready", 3*time.Minute, c.watch, func() (bool, error) {
		out, err := c.kubectlErr("get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True", err
	})
	t.Logf("boot: node Ready %v after etcd started (kubelet: %v)", time.Since(start).Round(100*time.Millisecond), ready.Round(100*time.Millisecond))

	c.writeFile("kube-proxy.yaml", kubeProxyConfig, map[string]any{"Ports": p, "Kubeconfig": proxyKubeconfig})
	t.Cleanup(func() { // after kube-proxy stops: its own cleanup of its nftables tables
		if out, err := run(context.Background(), nil, "", bins.kube["kube-proxy"], "--cleanup", "--config="+c.path("kube-proxy.yaml")); err != nil {
			t.Logf("teardown: kube-proxy --cleanup: %v %s", err, out)
		}
	})
	c.watch = append(c.watch, c.daemon("kube-proxy", 10*time.Second, bins.kube["kube-proxy"], "--config="+c.path("kube-proxy.yaml")))
	c.writeFile("Corefile", corefile, map[string]any{"Ports": p, "Kubeconfig": dnsKubeconfig})
	c.watch = append(c.watch, c.daemon("coredns", 10*time.Second, bins.coredns, "-conf", c.path("Corefile")))
	waitFor(ctx, t, "CoreDNS ready", 2*time.Minute, c.watch, func() (bool, error) {
		return httpOK(fmt.Sprintf("http://127.0.0.1:%d/ready", p.DNSReady))
	})
	waitFor(ctx, t, "kube-proxy healthy", 2*time.Minute, c.watch, func() (bool, error) {
		return httpOK(fmt.Sprintf("http://127.0.0.1:%d/healthz", p.ProxyHealthz))
	})
	// The controller manager is up once it has given the default namespace
	// its ServiceAccount.
	waitFor(ctx, t, "controller manager", 2*time.Minute, c.watch, func() (bool, error) {
		_, err := c.kubectlErr("-n", "default", "get", "serviceaccount", "default")
		return err == nil, err
	})
	t.Logf("boot: cluster up in %v", time.Since(start).Round(100*time.Millisecond))
	return c
}

func (c *cluster) path(rel string) string { return filepath.Join(c.work, rel) }

// daemon starts one of the cluster's processes; logs go to work/logs.
func (c *cluster) daemon(name string, grace time.Duration, prog string, args ...string) *proc {
	c.t.Helper()
	return start(c.t, c.logs, name, nil, grace, prog, args...)
}

// writeFile renders text (a text/template over the cluster and data) into
// the work directory.
func (c *cluster) writeFile(rel, text string, data map[string]any) {
	c.t.Helper()
	if data == nil {
		data = map[string]any{}
	}
	data["Work"], data["Bridge"], data["NodeIP"], data["PodCIDR"], data["ServiceCIDR"] = c.work, bridge, nodeIP, podCIDR, serviceCIDR
	data["NodeName"], data["Network"], data["Pause"], data["CgroupRoot"] = nodeName, cniNetwork, pauseImage, "/"+cgroupRoot
	data["CNIBin"] = cniBinDir()
	var b strings.Builder
	if err := template.Must(template.New(rel).Option("missingkey=error").Parse(text)).Execute(&b, data); err != nil {
		c.t.Fatalf("%s: %v", rel, err)
	}
	if err := os.WriteFile(c.path(rel), []byte(b.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// writeKubeconfig writes a kubeconfig for a client certificate of user in
// groups and returns its path.
func (c *cluster) writeKubeconfig(ca *pki, server, name, user string, groups ...string) string {
	c.t.Helper()
	cert, key := ca.issue(c.t, name, user, groups)
	c.writeFile(name+".kubeconfig", kubeconfigTemplate, map[string]any{"Server": server, "CA": ca.caFile(), "Cert": cert, "Key": key})
	return c.path(name + ".kubeconfig")
}

// kubectl runs the cluster's kubectl as the admin, failing the test on error.
func (c *cluster) kubectl(args ...string) string {
	c.t.Helper()
	out, err := c.kubectlErr(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *cluster) kubectlErr(args ...string) (string, error) {
	return c.kubectlCtx(c.ctx, args...)
}

// kubectlCtx is kubectlErr under ctx (the teardown's is not the test's).
func (c *cluster) kubectlCtx(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.bins.kube["kubectl"], args...)
	cmd.Env = append(os.Environ(), c.env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// kubectlJSON runs kubectl with -o json and decodes its output into v.
func (c *cluster) kubectlJSON(v any, args ...string) error {
	out, err := c.kubectlErr(append(args, "-o", "json")...)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(out), v)
}

func (c *cluster) kubectlApply(manifest string) {
	c.t.Helper()
	cmd := exec.CommandContext(c.ctx, c.bins.kube["kubectl"], "apply", "-f", "-")
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// importImage copies an image from Docker into the cluster's containerd
// (docker save | ctr import). img is "SOURCE=TARGET": the image is imported
// under its Docker tag and tagged TARGET inside the cluster.
func (c *cluster) importImage(img string) {
	c.t.Helper()
	src, target, _ := strings.Cut(img, "=")
	save := exec.CommandContext(c.ctx, "docker", "save", src)
	imp := exec.CommandContext(c.ctx, "ctr", "-a", c.sock, "-n", "k8s.io", "images", "import", "-")
	pipe, err := save.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	imp.Stdin = pipe
	var saveErr strings.Builder
	save.Stderr = &saveErr
	if err := save.Start(); err != nil {
		c.t.Fatal(err)
	}
	out, err := imp.CombinedOutput()
	if werr := save.Wait(); werr != nil || err != nil {
		c.t.Fatalf("docker save %s | ctr import: %v %v\n%s%s", src, werr, err, saveErr.String(), out)
	}
	if _, err := run(c.ctx, nil, "", "ctr", "-a", c.sock, "-n", "k8s.io", "images", "tag", "--force", dockerRef(src), target); err != nil {
		c.t.Fatal(err)
	}
}

// dockerRef is the reference containerd gives an image Docker calls name:
// Docker Hub's, unless the first path component names a registry.
func dockerRef(name string) string {
	first, _, hasSlash := strings.Cut(name, "/")
	switch {
	case !hasSlash:
		return "docker.io/library/" + name
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return name
	}
	return "docker.io/" + name
}

// killContainers stops, once the kubelet is gone, every task it left in the
// cluster's containerd.
func (c *cluster) killContainers() {
	out, err := run(context.Background(), nil, "", "ctr", "-a", c.sock, "-n", "k8s.io", "tasks", "ls", "-q")
	if err != nil {
		return
	}
	ids := strings.Fields(out)
	for _, id := range ids {
		_, _ = run(context.Background(), nil, "", "ctr", "-a", c.sock, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id)
		_, _ = run(context.Background(), nil, "", "ctr", "-a", c.sock, "-n", "k8s.io", "tasks", "delete", "-f", id)
	}
	if len(ids) > 0 {
		c.t.Logf("teardown: killed %d containers the kubelet left running", len(ids))
	}
}

// logTails logs the end of every daemon's log (on failure).
func (c *cluster) logTails(n int) {
	for _, p := range c.watch {
		c.t.Logf("--- %s (%s):\n%s", p.name, p.log, p.tailLog(n))
	}
}

func httpOK(url string) (bool, error) {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return true, nil
}

// cniBinDirs are where Debian (containernetworking-plugins) and upstream put
// the CNI plugins.
var cniBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

func cniBinDir() string {
	for _, d := range cniBinDirs {
		if _, err := os.Stat(filepath.Join(d, "bridge")); err == nil {
			return d
		}
	}
	return ""
}

const kubeconfigTemplate = `apiVersion: v1
kind: Config
clusters:
- name: eosweep-e2e
  cluster: {server: "{{.Server}}", certificate-authority: "{{.CA}}"}
users:
- name: user
  user: {client-certificate: "{{.Cert}}", client-key: "{{.Key}}"}
contexts:
- name: eosweep-e2e
  context: {cluster: eosweep-e2e, user: user}
current-context: eosweep-e2e
`

// corednsRBAC lets CoreDNS's client certificate read what cluster DNS serves.
const corednsRBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "eosweep-e2e:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "eosweep-e2e:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "eosweep-e2e:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "eosweep-e2e:coredns"}
`

// cniConfig: pods on the bridge, addresses from the pod range, a route to
// the service range through the node and no default route, no masquerade.
const cniConfig = `{
  "cniVersion": "1.0.0",
  "name": "{{.Network}}",
  "plugins": [{
    "type": "bridge",
    "bridge": "{{.Bridge}}",
    "isGateway": true,
    "isDefaultGateway": false,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "{{.PodCIDR}}", "rangeStart": "10.244.0.10", "gateway": "{{.NodeIP}}"}]],
      "routes": [{"dst": "{{.ServiceCIDR}}"}],
      "dataDir": "{{.Work}}/cni/ipam"
    }
  }]
}
`

// containerdConfig is a containerd of the cluster's own (socket, state, root
// and runc root under the work directory) beside Docker's. Root here lacks
// CAP_SYS_RESOURCE: without restrict_oom_score_adj runc fails with "can't
// get final child's PID from pipe: EOF".
const containerdConfig = `version = 2
root = "{{.Work}}/containerd/root"
state = "{{.Work}}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "{{.Work}}/containerd/containerd.sock"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{{.Work}}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.Pause}}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{{.Work}}/containerd/runc"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "{{.CNIBin}}"
  conf_dir = "{{.Work}}/cni/net.d"
`

// kubeletConfig: cgroupfs under its own cgroup root, serving on the node IP
// only, DNS at the node, no host resolv.conf, pod logs under the work dir.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {{.NodeIP}}
port: {{.Ports.Kubelet}}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: {{.Ports.KubeletHealthz}}
tlsCertFile: {{.Cert}}
tlsPrivateKeyFile: {{.Key}}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: {{.Work}}/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://{{.Work}}/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: {{.CgroupRoot}}
failCgroupV1: false
failSwapOn: false
clusterDNS: [{{.NodeIP}}]
clusterDomain: cluster.local
resolvConf: ""
podLogsDir: {{.Work}}/pod-logs
staticPodPath: ""
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 40
`

// kubeProxyConfig: nftables, NodePorts on the bridge address only, metrics
// and health on loopback, and no change to the host's conntrack settings.
const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: {{.Kubeconfig}}}
hostnameOverride: {{.NodeName}}
mode: nftables
clusterCIDR: {{.PodCIDR}}
detectLocalMode: ClusterCIDR
nodePortAddresses: [{{.NodeIP}}/32]
healthzBindAddress: 127.0.0.1:{{.Ports.ProxyHealthz}}
metricsBindAddress: 127.0.0.1:{{.Ports.ProxyMetrics}}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`

// corefile: cluster DNS on the bridge address, health and readiness on
// loopback. Other zones are refused at once: nothing is forwarded anywhere.
const corefile = `cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind {{.NodeIP}}
    errors
    log
    health 127.0.0.1:{{.Ports.DNSHealth}}
    ready 127.0.0.1:{{.Ports.DNSReady}}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig {{.Kubeconfig}}
        pods disabled
    }
    cache 30
}
`
