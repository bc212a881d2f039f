package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eosweep/eosweep/engine"
)

// TestExamplesParse checks that every spec under examples/ parses, expands to
// trials that the engine accepts, and covers every model between them: the
// examples are documentation that must run as it is.
func TestExamplesParse(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	nested, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, nested...)
	if len(paths) == 0 {
		t.Fatal("no examples found")
	}
	models := map[string]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data, 100_000)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		trials, err := s.Trials()
		if err != nil {
			t.Errorf("%s: expand: %v", filepath.Base(p), err)
			continue
		}
		if len(trials) == 0 {
			t.Errorf("%s: no trials", filepath.Base(p))
		}
		models[s.Model] = true
	}
	for _, m := range engine.Models {
		if !models[m] {
			t.Errorf("no example for model %s", m)
		}
	}
}
