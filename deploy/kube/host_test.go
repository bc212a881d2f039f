package kube

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The cluster's network: one bridge that is the node (its address is the node
// IP, where the kubelet, the apiserver and DNS listen), pods on it, services
// in a range only kube-proxy knows. Pods get routes to these two ranges and
// no default route; nothing is masqueraded, so nothing leaves the machine.
// workPrefix begins the name of every run's work directory (see workDir):
// log links into one are the cluster's.
var workPrefix = filepath.Join(os.TempDir(), "eosweep-k8s-")

const (
	bridge      = "eosweep0"
	nodeIP      = "10.244.0.1"
	podCIDR     = "10.244.0.0/24"
	serviceCIDR = "10.96.0.0/24"
	apiService  = "10.96.0.1" // the first address of serviceCIDR: the kubernetes Service
	nodeName    = "eosweep-e2e"
	cniNetwork  = "eosweep-e2e"
	ruleComment = "eosweep-k8s-e2e"
	cgroupRoot  = "eosweep-e2e" // the kubelet's cgroup root, in every hierarchy
)

// sysctls are the host settings the kubelet and kube-proxy may change
// (kernel tunables, conntrack, forwarding); teardown puts them back.
var sysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
	"net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet",
	"net/netfilter/nf_conntrack_max", "net/netfilter/nf_conntrack_tcp_timeout_established",
	"net/netfilter/nf_conntrack_tcp_timeout_close_wait", "net/netfilter/nf_conntrack_tcp_be_liberal",
	"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
}

// hostState is what the run may change on the host, read before it starts.
type hostState struct {
	sysctls  map[string]string
	iptables map[string][]string // iptables-save lines, by variant (iptables-nft, ip6tables-legacy, …)
	nft      []string            // "family name" of every nftables table
	netns    []string            // entries of /run/netns
	paths    map[string]bool     // which of hostPaths existed
}

// hostPaths are the places outside its work directory where the cluster
// writes: the kubelet's container log links and device-plugin socket (fixed
// paths whatever its root directory), the CNI result cache, the shims'
// socket directory, the runtime's network namespaces.
var hostPaths = []string{"/var/log/containers", "/var/lib/kubelet", "/var/lib/cni", "/run/containerd", "/run/netns"}

// iptablesVariants are the iptables front ends whose rules the run snapshots
// and cleans: the kubelet writes its chains with whichever one is in use.
var iptablesVariants = []string{"iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy"}

func readHost(t *testing.T) hostState {
	t.Helper()
	h := hostState{sysctls: map[string]string{}, iptables: map[string][]string{}, paths: map[string]bool{}}
	for _, p := range hostPaths {
		_, err := os.Lstat(p)
		h.paths[p] = err == nil
	}
	for _, s := range sysctls {
		if b, err := os.ReadFile("/proc/sys/" + s); err == nil {
			h.sysctls[s] = strings.TrimSpace(string(b))
		}
	}
	for _, v := range iptablesVariants {
		if out, err := exec.Command(v + "-save").Output(); err == nil {
			h.iptables[v] = iptablesLines(string(out))
		}
	}
	h.nft = nftTables()
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		h.netns = append(h.netns, e.Name())
	}
	return h
}

// iptablesLines keeps the chain and rule lines of iptables-save output
// (with "*table" prefixed), without counters or comments.
func iptablesLines(save string) []string {
	var out []string
	table := ""
	for line := range strings.Lines(save) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line, " ")
			out = append(out, table+" "+name)
		case strings.HasPrefix(line, "-A "):
			out = append(out, table+" "+line)
		}
	}
	return out
}

func nftTables() []string {
	out, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		return nil
	}
	var tables []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			tables = append(tables, f[1]+" "+f[2])
		}
	}
	return tables
}

func links() []string {
	ifs, _ := net.Interfaces()
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	sort.Strings(names)
	return names
}

// checkNetworkFree skips when the cluster's bridge or address ranges are
// already in use on this host.
func checkNetworkFree(t *testing.T) {
	t.Helper()
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Fatalf("interface %s exists: left over from an earlier run? remove it with `ip link del %s`", bridge, bridge)
	}
	out, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		t.Skipf("SKIPPED: cannot read routes: %v", err)
	}
	for _, cidr := range []string{podCIDR, serviceCIDR} {
		_, want, _ := net.ParseCIDR(cidr)
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if _, have, err := net.ParseCIDR(f[0]); err == nil && (have.Contains(want.IP) || want.Contains(have.IP)) {
				t.Skipf("SKIPPED: this host already routes %s (%s), which the test cluster needs for %s", f[0], strings.TrimSpace(line), cidr)
			}
		}
	}
}

// setupNetwork makes the bridge and lets traffic forward within it (Docker
// sets the FORWARD policy to DROP, which with bridge netfilter also drops
// pod→pod and pod→Service→pod traffic). Its cleanup, registered first and so
// run last, removes everything the cluster added to the host's network.
func setupNetwork(t *testing.T, before hostState) {
	t.Helper()
	t.Cleanup(func() { restoreHost(t, before) })
	for _, args := range [][]string{
		{"link", "add", bridge, "type", "bridge"},
		{"addr", "add", nodeIP + "/24", "dev", bridge},
		{"link", "set", bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("SKIPPED: cannot make the cluster's bridge (ip %s): %v %s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command("iptables", append([]string{"-I", "FORWARD", "1"}, forwardRule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v %s", err, out)
	}
}

var forwardRule = []string{"-i", bridge, "-o", bridge, "-m", "comment", "--comment", ruleComment, "-j", "ACCEPT"}

// restoreHost undoes what the cluster did to the host and fails the test for
// whatever it could not undo.
func restoreHost(t *testing.T, before hostState) {
	t.Helper()
	// Interfaces: veths left on the bridge, then the bridge.
	if out, err := exec.Command("ip", "-j", "link", "show", "master", bridge).Output(); err == nil {
		var ports []struct{ Ifname string }
		_ = json.Unmarshal(out, &ports)
		for _, p := range ports {
			_ = exec.Command("ip", "link", "del", p.Ifname).Run()
		}
		if len(ports) > 0 {
			t.Logf("teardown: removed %d veths the runtime left on %s", len(ports), bridge)
		}
	}
	if _, err := net.InterfaceByName(bridge); err == nil {
		if out, err := exec.Command("ip", "link", "del", bridge).CombinedOutput(); err != nil {
			t.Errorf("teardown: ip link del %s: %v %s", bridge, err, out)
		}
	}
	// Our FORWARD rule (possibly inserted twice by a retried run).
	for exec.Command("iptables", append([]string{"-C", "FORWARD"}, forwardRule...)...).Run() == nil {
		if out, err := exec.Command("iptables", append([]string{"-D", "FORWARD"}, forwardRule...)...).CombinedOutput(); err != nil {
			t.Errorf("teardown: iptables -D FORWARD: %v %s", err, out)
			break
		}
	}
	// Chains and rules the kubelet (KUBE-FIREWALL, canaries, hint) added.
	for _, v := range iptablesVariants {
		removeKubeChains(t, v, before.iptables[v])
	}
	// nftables tables kube-proxy made, and tables iptables-nft made for the
	// kubelet's chains (now empty).
	for _, tbl := range nftTables() {
		if slices.Contains(before.nft, tbl) {
			continue
		}
		if strings.HasSuffix(tbl, " kube-proxy") || nftTableEmpty(tbl) {
			if out, err := exec.Command("nft", append([]string{"delete", "table"}, strings.Fields(tbl)...)...).CombinedOutput(); err != nil {
				t.Errorf("teardown: nft delete table %s: %v %s", tbl, err, out)
			}
		}
	}
	// Network namespaces the runtime left behind.
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if !slices.Contains(before.netns, e.Name()) && strings.HasPrefix(e.Name(), "cni-") {
			p := filepath.Join("/run/netns", e.Name())
			_ = exec.Command("umount", p).Run()
			_ = os.Remove(p)
		}
	}
	removeHostPaths(t, before)
	for s, v := range before.sysctls {
		if b, err := os.ReadFile("/proc/sys/" + s); err == nil && strings.TrimSpace(string(b)) != v {
			if err := os.WriteFile("/proc/sys/"+s, []byte(v), 0o644); err != nil {
				t.Errorf("teardown: restore %s=%s: %v", s, v, err)
			}
		}
	}
	verifyHost(t, before)
}

// removeHostPaths removes what the cluster wrote outside its work directory
// (work): links to its container logs, its CNI results, and the directories
// of hostPaths it created, once empty (the kubelet's, whole: nothing else
// uses it here). A directory that existed before keeps everything else.
func removeHostPaths(t *testing.T, before hostState) {
	t.Helper()
	links, _ := os.ReadDir("/var/log/containers")
	for _, l := range links {
		p := filepath.Join("/var/log/containers", l.Name())
		if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, workPrefix) {
			_ = os.Remove(p)
		}
	}
	results, _ := os.ReadDir("/var/lib/cni/results")
	for _, r := range results {
		if strings.HasPrefix(r.Name(), cniNetwork+"-") {
			_ = os.Remove(filepath.Join("/var/lib/cni/results", r.Name()))
		}
	}
	if !before.paths["/var/lib/kubelet"] {
		if err := os.RemoveAll("/var/lib/kubelet"); err != nil {
			t.Errorf("teardown: %v", err)
		}
	}
	// Emptied directories the cluster made go too (os.Remove refuses others).
	for _, d := range []struct{ dir, made string }{
		{"/var/log/containers", "/var/log/containers"},
		{"/var/lib/cni/results", "/var/lib/cni"}, {"/var/lib/cni", "/var/lib/cni"},
		{"/run/containerd/s", "/run/containerd"}, {"/run/containerd", "/run/containerd"},
		{"/run/netns", "/run/netns"},
	} {
		if !before.paths[d.made] {
			_ = os.Remove(d.dir)
		}
	}
}

// removeKubeChains deletes, for one iptables variant, the KUBE-* chains that
// were not there before and the rules of older chains that jump to them.
func removeKubeChains(t *testing.T, variant string, before []string) {
	t.Helper()
	out, err := exec.Command(variant + "-save").Output()
	if err != nil {
		return
	}
	byTable := map[string][]string{}
	var tables []string
	add := func(table, line string) {
		if _, ok := byTable[table]; !ok {
			tables = append(tables, table)
		}
		byTable[table] = append(byTable[table], line)
	}
	var newChains []string
	for _, l := range iptablesLines(string(out)) {
		if slices.Contains(before, l) {
			continue
		}
		table, rest, _ := strings.Cut(l, " ")
		if chain, ok := strings.CutPrefix(rest, ":"); ok && strings.HasPrefix(chain, "KUBE-") {
			newChains = append(newChains, table+" "+chain)
			continue
		}
		if r, ok := strings.CutPrefix(rest, "-A "); ok && strings.Contains(r, "KUBE-") && !strings.HasPrefix(r, "KUBE-") {
			add(table, "-D "+r)
		}
	}
	for _, c := range newChains {
		table, chain, _ := strings.Cut(c, " ")
		add(table, "-F "+chain)
	}
	for _, c := range newChains {
		table, chain, _ := strings.Cut(c, " ")
		add(table, "-X "+chain)
	}
	if len(tables) == 0 {
		return
	}
	var script strings.Builder
	for _, tbl := range tables {
		fmt.Fprintf(&script, "*%s\n%s\nCOMMIT\n", tbl, strings.Join(byTable[tbl], "\n"))
	}
	cmd := exec.Command(variant+"-restore", "--noflush")
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("teardown: %s-restore: %v %s\n%s", variant, err, out, script.String())
	}
}

func nftTableEmpty(tbl string) bool {
	out, err := exec.Command("nft", append([]string{"-j", "list", "table"}, strings.Fields(tbl)...)...).Output()
	if err != nil {
		return false
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if json.Unmarshal(out, &doc) != nil {
		return false
	}
	for _, o := range doc.Nftables {
		if _, ok := o["rule"]; ok {
			return false
		}
		if _, ok := o["set"]; ok {
			return false
		}
	}
	return true
}

// verifyHost fails the test for anything the cluster added that is still
// there: interfaces, routes into its ranges, iptables rules or chains naming
// KUBE- or its comment, nftables tables, changed settings.
func verifyHost(t *testing.T, before hostState) {
	t.Helper()
	var left []string
	if slices.Contains(links(), bridge) {
		left = append(left, "interface "+bridge)
	}
	if out, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output(); err == nil {
		for line := range strings.Lines(string(out)) {
			if strings.HasPrefix(line, "10.244.") || strings.HasPrefix(line, "10.96.") || strings.Contains(line, bridge) {
				left = append(left, "route "+strings.TrimSpace(line))
			}
		}
	}
	for v, lines := range readHost(t).iptables {
		for _, l := range lines {
			if !slices.Contains(before.iptables[v], l) && (strings.Contains(l, "KUBE-") || strings.Contains(l, ruleComment)) {
				left = append(left, v+" "+l)
			}
		}
	}
	for _, tbl := range nftTables() {
		if !slices.Contains(before.nft, tbl) {
			left = append(left, "nft table "+tbl)
		}
	}
	for s, v := range before.sysctls {
		if b, err := os.ReadFile("/proc/sys/" + s); err == nil && strings.TrimSpace(string(b)) != v {
			left = append(left, fmt.Sprintf("sysctl %s=%s (was %s)", s, strings.TrimSpace(string(b)), v))
		}
	}
	for _, p := range hostPaths {
		// /run/containerd/s also holds the sockets of Docker's shims, if
		// Docker runs containers meanwhile.
		if _, err := os.Lstat(p); err == nil && !before.paths[p] && p != "/run/containerd" {
			left = append(left, "path "+p)
		}
	}
	if links, _ := os.ReadDir("/var/log/containers"); len(links) > 0 {
		for _, l := range links {
			if target, err := os.Readlink(filepath.Join("/var/log/containers", l.Name())); err == nil && strings.HasPrefix(target, workPrefix) {
				left = append(left, "log link /var/log/containers/"+l.Name())
			}
		}
	}
	if len(left) > 0 {
		t.Errorf("teardown left on the host:\n  %s", strings.Join(left, "\n  "))
	} else {
		t.Logf("teardown: no interface, route, iptables rule, nftables table or setting of the cluster left")
	}
}

// cgroupHierarchies returns the mounted cgroup hierarchies: every v1
// controller directory, or the single v2 root. v2 is true for the latter.
func cgroupHierarchies() (dirs []string, v2 bool, err error) {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}, true, nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		// mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPER
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup ") {
			continue
		}
		if f := strings.Fields(pre); len(f) >= 5 {
			dirs = append(dirs, f[4])
		}
	}
	if len(dirs) == 0 {
		return nil, false, errors.New("no cgroup hierarchy mounted")
	}
	return dirs, false, nil
}

// makeCgroupRoot creates the kubelet's cgroup root in every hierarchy (the
// kubelet requires it to exist); cpuset needs its CPUs and memory nodes
// copied from the parent before anything can run in it. The cleanup removes
// the whole tree once every container has stopped.
func makeCgroupRoot(t *testing.T) {
	t.Helper()
	dirs, v2, err := cgroupHierarchies()
	if err != nil {
		t.Skipf("SKIPPED: no cgroups: %v", err)
	}
	for _, d := range dirs {
		p := filepath.Join(d, cgroupRoot)
		if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
			t.Skipf("SKIPPED: cannot create cgroup %s: %v", p, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if b, err := os.ReadFile(filepath.Join(d, f)); err == nil && !v2 {
				_ = os.WriteFile(filepath.Join(p, f), b, 0o644)
			}
		}
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			// Killed containers may take a moment to leave their cgroups.
			var err error
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				if err = removeCgroupTree(filepath.Join(d, cgroupRoot)); err == nil || time.Now().After(deadline) {
					break
				}
			}
			if err != nil {
				t.Errorf("teardown: cgroups: %v", err)
			}
		}
	})
}

// removeCgroupTree removes a cgroup directory and its children, deepest
// first (cgroup directories are removed with rmdir, their files with them).
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("rmdir %s: %w", dir, err)
	}
	return nil
}

// unmountUnder unmounts every mount below dir, deepest first (secret
// volumes, container root filesystems that outlived their runtime).
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 5 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		if out, err := exec.Command("umount", p).CombinedOutput(); err != nil {
			if out2, err2 := exec.Command("umount", "-l", p).CombinedOutput(); err2 != nil {
				t.Errorf("teardown: umount %s: %v %s %s", p, err, out, out2)
			}
		}
	}
	if len(points) > 0 {
		t.Logf("teardown: unmounted %d leftover mounts under %s: %s", len(points), dir, strings.Join(points, " "))
	}
}
