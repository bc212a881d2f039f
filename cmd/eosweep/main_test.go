package main

import (
	"bytes"
	"context"
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
// default of --workers and --parallel. A deliberate change regenerates it:
// EOSWEEP_UPDATE_GOLDEN=1 go test ./cmd/eosweep -run TestHelpUnchanged
const helpGolden = "testdata/help.golden"

// updateGolden rewrites helpGolden from what the commands print now.
func updateGolden(t *testing.T, sections []string) {
	var b strings.Builder
	cpu := "(default " + strconv.Itoa(runtime.NumCPU()) + ")"
	for _, sec := range sections {
		head, _, _ := strings.Cut(sec, "\n")
		got, _, err := execute(context.Background(), strings.Fields(head)...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(got, "\n")
		for i, l := range lines {
			if strings.Contains(l, "--workers") || strings.Contains(l, "--parallel") {
				lines[i] = strings.ReplaceAll(l, cpu, "(default NUMCPU)")
			}
		}
		b.WriteString("=== eosweep " + head + "\n" + strings.Join(lines, "\n"))
	}
	if err := os.WriteFile(helpGolden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s rewritten", helpGolden)
}

func TestHelpUnchanged(t *testing.T) {
	t.Parallel()
	golden, err := os.ReadFile(helpGolden)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(golden), "NUMCPU", strconv.Itoa(runtime.NumCPU()))
	sections := strings.Split(text, "=== eosweep ")[1:]
	if len(sections) < 11 {
		t.Fatalf("%s: %d sections, want one per command", helpGolden, len(sections))
	}
	if os.Getenv("EOSWEEP_UPDATE_GOLDEN") != "" {
		updateGolden(t, sections)
		return
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
