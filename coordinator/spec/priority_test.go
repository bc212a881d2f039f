package spec

import (
	"errors"
	"strings"
	"testing"
)

// priority is an integer in [1, MaxPriority], 1 when absent; it does not
// change the sweep's id, so a spec without it keeps the id it always had.
func TestPriority(t *testing.T) {
	t.Parallel()
	const base = "name: p\nmodel: single\ngrid: {eta: [1]}\n"
	plain, err := Parse([]byte(base), 0)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Priority != 1 {
		t.Fatalf("priority of a spec without it: %d, want 1", plain.Priority)
	}
	for _, c := range []struct {
		name, text string
		want       int
		errs       []string
	}{
		{"set", base + "priority: 3\n", 3, nil},
		{"largest", base + "priority: 100\n", 100, nil},
		{"zero", base + "priority: 0\n", 0, []string{"priority: \"0\"", "[1, 100]"}},
		{"negative", base + "priority: -2\n", 0, []string{"priority: \"-2\"", "[1, 100]"}},
		{"too large", base + "priority: 101\n", 0, []string{"priority: \"101\"", "[1, 100]"}},
		{"not an integer", base + "priority: 1.5\n", 0, []string{"priority"}},
		{"a string", base + "priority: high\n", 0, []string{"priority"}},
	} {
		sp, err := Parse([]byte(c.text), 0)
		if c.errs != nil {
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: err %v, want ErrInvalid", c.name, err)
				continue
			}
			for _, w := range c.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %q does not say %q", c.name, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if sp.Priority != c.want || sp.ID() != plain.ID() {
			t.Errorf("%s: priority %d id %s, want %d and the id %s of the spec without it", c.name, sp.Priority, sp.ID(), c.want, plain.ID())
		}
	}
}
