package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// execute runs `eosweep args...` in-process on a fresh command tree and
// returns what it wrote to stdout and stderr.
func execute(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	root := newRootCmd(&deps{stdout: &out, stderr: &errOut})
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// helpGolden holds `eosweep [CMD] --help` of every command as the binary
// printed it before the command tree was built by newRootCmd: commands,
// flags, defaults and help texts must stay as they are (the README and the
// deployment files depend on them). NUMCPU stands for runtime.NumCPU(), the
// default of --workers and --parallel.
const helpGolden = "testdata/help.golden"

// updateHelp rewrites helpGolden from the current command tree (after a
// deliberate flag or help change): go test ./cmd/eosweep -run TestHelpUnchanged -update-help
var updateHelp = flag.Bool("update-help", false, "rewrite "+helpGolden+" from the current commands")

func TestHelpUnchanged(t *testing.T) {
	t.Parallel()
	if *updateHelp {
		writeHelpGolden(t)
	}
	golden, err := os.ReadFile(helpGolden)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(golden), "NUMCPU", strconv.Itoa(runtime.NumCPU()))
	sections := strings.Split(text, "=== eosweep ")[1:]
	if len(sections) < 11 {
		t.Fatalf("%s: %d sections, want one per command", helpGolden, len(sections))
	}
	for _, sec := range sections {
		head, want, _ := strings.Cut(sec, "\n")
		args := strings.Fields(head) // "[CMD] --help"
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			got, _, err := execute(context.Background(), args...)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("eosweep %s changed:\n%s", head, lineDiff(want, got))
			}
		})
	}
}

// writeHelpGolden writes the --help of the root and of every command.
func writeHelpGolden(t *testing.T) {
	t.Helper()
	heads := []string{" --help"}
	for _, c := range newRootCmd(&deps{}).Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" && c.Name() != "completion" {
			heads = append(heads, c.Name()+" --help")
		}
	}
	var b strings.Builder
	for _, head := range heads {
		out, _, err := execute(context.Background(), strings.Fields(head)...)
		if err != nil {
			t.Fatal(err)
		}
		out = strings.ReplaceAll(out, "(default "+strconv.Itoa(runtime.NumCPU())+")", "(default NUMCPU)")
		b.WriteString("=== eosweep " + head + "\n" + out)
	}
	if err := os.WriteFile(helpGolden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
