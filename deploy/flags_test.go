package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/eosweep/eosweep/internal/proctest"
)

// commandLine is one eosweep invocation found in a deployment file.
type commandLine struct {
	where string
	args  []string // subcommand first
}

func TestMain(m *testing.M) { os.Exit(proctest.Run(m)) }

func readYAMLDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if m != nil {
			docs = append(docs, m)
		}
	}
	return docs
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// k8sCommands returns the args of every container in the Kubernetes manifests.
func k8sCommands(t *testing.T) []commandLine {
	t.Helper()
	files, _ := filepath.Glob("k8s/*.yaml")
	var out []commandLine
	for _, f := range files {
		for _, doc := range readYAMLDocs(t, f) {
			spec, _ := doc["spec"].(map[string]any)
			tmpl, _ := spec["template"].(map[string]any)
			pod, _ := tmpl["spec"].(map[string]any)
			containers, _ := pod["containers"].([]any)
			for _, c := range containers {
				cm, _ := c.(map[string]any)
				out = append(out, commandLine{f + " " + cm["name"].(string), strs(cm["args"])})
			}
		}
	}
	return out
}

// composeCommands returns every service command and eosweep health check.
func composeCommands(t *testing.T) []commandLine {
	t.Helper()
	docs := readYAMLDocs(t, "docker-compose.yml")
	services, _ := docs[0]["services"].(map[string]any)
	var out []commandLine
	for name, s := range services {
		sm, _ := s.(map[string]any)
		out = append(out, commandLine{"compose " + name, strs(sm["command"])})
		hc, _ := sm["healthcheck"].(map[string]any)
		if test := strs(hc["test"]); len(test) > 2 && test[1] == "/eosweep" {
			out = append(out, commandLine{"compose " + name + " healthcheck", test[2:]})
		}
	}
	return out
}

// slurmCommands returns the worker command line the batch script assembles.
func slurmCommands(t *testing.T) []commandLine {
	t.Helper()
	b, err := os.ReadFile("slurm/eosweep-workers.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"worker"}
	flag := regexp.MustCompile(`--[a-z][a-z-]*`)
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "args=(") || strings.HasPrefix(line, "args+=(") {
			args = append(args, flag.FindAllString(line, -1)...)
		}
	}
	return []commandLine{{"slurm", args}}
}

func TestDeployedFlagsExist(t *testing.T) {
	bin := proctest.BuildOnce(t) // skipped with -short
	var lines []commandLine
	lines = append(lines, k8sCommands(t)...)
	lines = append(lines, composeCommands(t)...)
	lines = append(lines, slurmCommands(t)...)
	if len(lines) < 6 {
		t.Fatalf("found only %d command lines: %v", len(lines), lines)
	}
	help := map[string]string{}
	for _, l := range lines {
		if len(l.args) == 0 {
			t.Errorf("%s: no command", l.where)
			continue
		}
		sub := l.args[0]
		if _, ok := help[sub]; !ok {
			out, err := exec.Command(bin, sub, "--help").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "eosweep "+sub) {
				t.Fatalf("%s: eosweep %s --help: %v\n%s", l.where, sub, err, out)
			}
			help[sub] = string(out)
		}
		for _, a := range l.args[1:] {
			if !strings.HasPrefix(a, "--") {
				continue
			}
			name, _, _ := strings.Cut(a, "=")
			if !strings.Contains(help[sub], name+" ") {
				t.Errorf("%s: eosweep %s has no flag %s", l.where, sub, name)
			}
		}
	}
}
