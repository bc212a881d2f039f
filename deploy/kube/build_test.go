package kube

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The versions the test builds. Kubernetes' staging modules (k8s.io/api,
// k8s.io/client-go, …) carry the same minor and patch under major 0.
const (
	kubeVersion    = "v1.34.4"
	corednsVersion = "v1.12.4"
)

// kubeCommands are the Kubernetes programs the single-node cluster runs.
var kubeCommands = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"}

// corednsPlugins is CoreDNS's plugin set here: cluster DNS and nothing else.
var corednsPlugins = []string{"bind", "cache", "errors", "health", "kubernetes", "log", "ready"}

// cacheRoot is where built binaries are kept between runs:
// $EOSWEEP_K8S_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/eosweep-k8s.
func cacheRoot() (string, error) {
	if d := os.Getenv("EOSWEEP_K8S_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set EOSWEEP_K8S_CACHE): %w", err)
	}
	return filepath.Join(d, "eosweep-k8s"), nil
}

// binaries are the paths of the programs the test runs.
type binaries struct {
	kube    map[string]string // by command name
	coredns string
}

// ensureBinaries returns the cached Kubernetes and CoreDNS binaries of this
// version, building whatever is missing from the Go module proxy first.
func ensureBinaries(ctx context.Context, t *testing.T) binaries {
	t.Helper()
	root, err := cacheRoot()
	if err != nil {
		t.Fatal(err)
	}
	arch := runtime.GOOS + "-" + runtime.GOARCH
	kubeDir := filepath.Join(root, "kubernetes-"+kubeVersion+"-"+arch)
	dnsDir := filepath.Join(root, "coredns-"+corednsVersion+"-"+arch)
	b := binaries{kube: map[string]string{}, coredns: filepath.Join(dnsDir, "coredns")}
	for _, c := range kubeCommands {
		b.kube[c] = filepath.Join(kubeDir, c)
	}
	cached(ctx, t, kubeDir, "Kubernetes "+kubeVersion, kubeCommands, buildKubernetes)
	cached(ctx, t, dnsDir, "CoreDNS "+corednsVersion, []string{"coredns"}, buildCoreDNS)
	return b
}

// cached runs build into a fresh directory next to dir and renames it to dir,
// unless dir already holds every one of files (a finished build: it only
// appears by rename; one missing a file is removed and built again).
func cached(ctx context.Context, t *testing.T, dir, what string, files []string, build func(ctx context.Context, src, out string) error) {
	t.Helper()
	if _, err := os.Stat(dir); err == nil {
		complete := true
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				complete = false
			}
		}
		if complete {
			t.Logf("%s: cached in %s", what, dir)
			return
		}
		t.Logf("%s: %s is incomplete: building again", what, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bin")
	start := time.Now()
	if err := build(ctx, filepath.Join(tmp, "src"), out); err != nil {
		t.Fatalf("build %s: %v", what, err)
	}
	if err := os.Rename(out, dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(dir); statErr != nil { // not a concurrent run's finished build
			t.Fatalf("keep %s: %v", what, err)
		}
	}
	t.Logf("%s: built in %v into %s", what, time.Since(start).Round(time.Second), dir)
}

// stagingReplace matches kubernetes' own go.mod lines that point a staging
// module at its in-tree copy, e.g. "k8s.io/api => ./staging/src/k8s.io/api".
var stagingReplace = regexp.MustCompile(`^\s*(?:replace\s+)?(k8s\.io/[A-Za-z0-9._-]+)\s*=>\s*\./staging/`)

// buildKubernetes builds kubeCommands from k8s.io/kubernetes in a scratch
// module: the module proxy serves kubernetes without its staging directory,
// so every staging module is replaced by its published version.
func buildKubernetes(ctx context.Context, src, out string) error {
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	dl, err := goOutput(ctx, src, "mod", "download", "-json", "k8s.io/kubernetes@"+kubeVersion)
	if err != nil {
		return err
	}
	var mod struct{ GoMod string }
	if err := json.Unmarshal(dl, &mod); err != nil || mod.GoMod == "" {
		return fmt.Errorf("go mod download k8s.io/kubernetes@%s: no go.mod (%v)", kubeVersion, err)
	}
	f, err := os.Open(mod.GoMod)
	if err != nil {
		return err
	}
	defer f.Close()
	staging := "v0" + strings.TrimPrefix(kubeVersion, "v1")
	var gomod strings.Builder
	fmt.Fprintf(&gomod, "module eosweep-k8s-build\n\ngo %s\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n",
		strings.TrimPrefix(runtime.Version(), "go"), kubeVersion)
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if m := stagingReplace.FindStringSubmatch(sc.Text()); m != nil {
			fmt.Fprintf(&gomod, "\t%s => %s %s\n", m[1], m[1], staging)
			n++
		}
	}
	gomod.WriteString(")\n")
	if n == 0 {
		return fmt.Errorf("%s lists no staging modules", mod.GoMod)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(gomod.String()), 0o644); err != nil {
		return err
	}
	// Without the version stamp the binaries call themselves v0.0.0-master
	// and kubectl refuses to talk to such an apiserver.
	minor := strings.Split(kubeVersion, ".")[1]
	var ld []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		ld = append(ld, "-X", pkg+".gitVersion="+kubeVersion, "-X", pkg+".gitMajor=1",
			"-X", pkg+".gitMinor="+minor, "-X", pkg+".gitTreeState=clean")
	}
	args := []string{"build", "-trimpath", "-ldflags", "-s -w " + strings.Join(ld, " "), "-o", out + "/"}
	for _, c := range kubeCommands {
		args = append(args, "k8s.io/kubernetes/cmd/"+c)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	_, err = goOutput(ctx, src, args...)
	return err
}

// corednsMain is a CoreDNS with only corednsPlugins compiled in (CoreDNS's
// own main imports every plugin), run in CoreDNS's plugin order.
const corednsMain = `package main

import (
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
%s)

func main() {
	keep := []string{%s}
	dnsserver.Directives = slices.DeleteFunc(dnsserver.Directives, func(d string) bool { return !slices.Contains(keep, d) })
	coremain.Run()
}
`

func buildCoreDNS(ctx context.Context, src, out string) error {
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	var imports, names []string
	for _, p := range corednsPlugins {
		imports = append(imports, fmt.Sprintf("\t_ \"github.com/coredns/coredns/plugin/%s\"\n", p))
		names = append(names, fmt.Sprintf("%q", p))
	}
	main := fmt.Sprintf(corednsMain, strings.Join(imports, ""), strings.Join(names, ", "))
	gomod := fmt.Sprintf("module eosweep-coredns-build\n\ngo %s\n\nrequire github.com/coredns/coredns %s\n",
		strings.TrimPrefix(runtime.Version(), "go"), corednsVersion)
	for name, text := range map[string]string{"main.go": main, "go.mod": gomod} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	_, err := goOutput(ctx, src, "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(out, "coredns"), ".")
	return err
}

// buildPause builds the pause program of this directory into dir.
func buildPause(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "pause")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./pause")
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pause: %v\n%s", err, out)
	}
	return bin
}

// goOutput runs the go command in dir for a static build resolving modules
// from the proxy (-mod=mod: the scratch modules have no go.sum yet).
func goOutput(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(stderr.String(), 40))
	}
	return out, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
