package main

import (
	"context"
	"strings"
	"testing"
)

// The worker's exec flags are checked before it dials: --exec-allow needs
// --allow-exec, and every program it lists must exist.
func TestWorkerExecFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"worker", "--exec-allow", "/bin/sh"}, "flag --exec-allow: only with --allow-exec"},
		{[]string{"worker", "--allow-exec", "--exec-allow", "/bin/sh,no-such-program-eosweep"}, `flag --exec-allow: exec-allow "no-such-program-eosweep"`},
	} {
		_, _, err := execute(context.Background(), c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("eosweep %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
