package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"testing"

	"github.com/eosweep/eosweep/engine"
)

// TestTrialIdentityPinned pins trial ids and configuration keys as eosweep
// wrote them before streamed expansion: a stored trial is found again by its
// id, so neither may ever change.
func TestTrialIdentityPinned(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		model   string
		params  map[string]float64
		id, key string
	}{
		{"single", map[string]float64{"eta": 0.5}, "1f0b30095dbc4f19",
			"single bias_eps=0.01 eta=0.5 horizon=0 init_scale=0.01 lanczos_iters=20 seed=0 sharpness_every=0 steps=2000 x0=2"},
		{"mean", map[string]float64{"b0": 0, "eta": 1.0 / 3, "seed": 3, "steps": 10, "width": 7}, "b07e7b06a5897325",
			"mean b0=0 bias_eps=0.01 eta=0.3333333333333333 horizon=0 init_scale=0.01 lanczos_iters=20 seed=3 sharpness_every=0 steps=10 width=7"},
		{"sparse", map[string]float64{"eta": 6.6e-4, "seed": 2, "width": 200}, "609add394ef36001",
			"sparse b0=0 bias_eps=0.01 eta=0.00066 horizon=10 init_scale=1 lam=3 lanczos_iters=20 n=300 n_test=2000 noise=1 seed=2 sharpness_every=0 steps=15152 width=200"},
		{"relu", map[string]float64{"b0": math.Copysign(0, -1), "eta": 1e-300, "lam": 123456789.125, "seed": 1 << 53, "steps": 1e8, "w_scale": 1e21},
			"fefe122971194483",
			"relu a_scale=1 b0=-0 bias_eps=0.01 d=200 eta=1e-300 horizon=0 lam=1.23456789125e+08 lanczos_iters=20 n=1000 n_test=2000 noise=1 seed=9.007199254740992e+15 sharpness_every=100 steps=1e+08 w_scale=1e+21 width=20"},
	} {
		tr, err := NewTrial(c.model, c.params)
		if err != nil {
			t.Fatal(err)
		}
		if tr.ID != c.id || tr.Config.Key() != c.key {
			t.Errorf("%s %v:\n id %s, want %s\n key %q\nwant %q", c.model, c.params, tr.ID, c.id, tr.Config.Key(), c.key)
		}
	}
}

// TestKeyIDAllocs: a trial id costs one allocation, the id itself (the
// key's conversion to bytes took another, per grid point of a submit), and
// is the same id.
func TestKeyIDAllocs(t *testing.T) {
	cfg, err := engine.Resolve("single", map[string]float64{"eta": 0.25, "seed": 3, "steps": 1})
	if err != nil {
		t.Fatal(err)
	}
	key := cfg.Key()
	sum := sha256.Sum256([]byte(key))
	if got, want := keyID(key), hex.EncodeToString(sum[:8]); got != want {
		t.Fatalf("keyID = %s, want %s", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = keyID(key) }); n > 1 {
		t.Fatalf("keyID: %v allocations, want 1", n)
	}
}
