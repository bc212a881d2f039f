package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/eosweep/eosweep/engine"
)

// BenchmarkDurableWrites compares three ways to make one ~512-byte result
// durable per call from concurrent writers, with fsync on: one bbolt Update
// per write, DB.Batch (10 ms default delay), and the store's group commit.
func BenchmarkDurableWrites(b *testing.B) {
	res := engine.Result{FinalBias: -0.25, StepsRun: 1000}
	for i := range 12 {
		res.Trajectory = append(res.Trajectory, engine.Point{Step: i * 80, Loss: 0.5, Bias: -0.01 * float64(i)})
	}
	op, err := ResultOp(Trial{Sweep: "bench", ID: "t"}, res)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("value size %d bytes", len(op.value))
	for _, writers := range []int{1, 8, 64} {
		for _, mode := range []string{"update", "batch", "group"} {
			b.Run(fmt.Sprintf("writers=%d/%s", writers, mode), func(b *testing.B) {
				s, err := Open(filepath.Join(b.TempDir(), "b.db"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				var n atomic.Int64
				write := func() error {
					o := op
					o.key = seqKey(int(n.Add(1)))
					switch mode {
					case "update":
						return s.db.Update(func(tx *bolt.Tx) error { return put(tx, o) })
					case "batch":
						return s.db.Batch(func(tx *bolt.Tx) error { return put(tx, o) })
					}
					return s.Apply(o)
				}
				var wg sync.WaitGroup
				per := (b.N + writers - 1) / writers
				b.ResetTimer()
				for range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range per {
							if err := write(); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "writes/s")
			})
		}
	}
}
