// Package depstest checks what a package links, with `go list -deps`, so a
// dependency rule (the worker links no store, no scheduler, no optimiser)
// stays true after the change that would break it.
package depstest

import (
	"os/exec"
	"strings"
	"testing"
)

// Deps returns the import paths pkg depends on, itself included, as
// `go list -deps pkg` prints them (test files not included). It skips t when
// the go command cannot be found.
func Deps(t testing.TB, pkg string) []string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("SKIPPED: the go command is not on PATH, so the dependencies of %s cannot be listed: %v", pkg, err)
	}
	out, err := exec.Command(gocmd, "list", "-deps", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// Forbid fails t for every dependency of pkg that is one of paths or lies
// below one of them.
func Forbid(t testing.TB, pkg string, paths ...string) {
	t.Helper()
	for _, dep := range Deps(t, pkg) {
		for _, p := range paths {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				t.Errorf("%s depends on %s (forbidden: %s)", pkg, dep, p)
			}
		}
	}
}

// Within fails t for every dependency of pkg below prefix that is none of
// allowed and lies below none of them: pkg's own module may give it only
// those packages.
func Within(t testing.TB, pkg, prefix string, allowed ...string) {
	t.Helper()
	for _, dep := range Deps(t, pkg) {
		if dep == pkg || (dep != prefix && !strings.HasPrefix(dep, prefix+"/")) {
			continue
		}
		ok := false
		for _, a := range allowed {
			if dep == a || strings.HasPrefix(dep, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s depends on %s; of %s it may use only %v", pkg, dep, prefix, allowed)
		}
	}
}
