package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScalingRelu measures a 64-trial relu sweep run by one and by two worker
// processes of one slot each against a coordinator process. It takes minutes,
// so it runs only with EOSWEEP_SCALING=1:
//
//	EOSWEEP_SCALING=1 go test ./cmd/eosweep -run TestScalingRelu -v -timeout 30m
func TestScalingRelu(t *testing.T) {
	if os.Getenv("EOSWEEP_SCALING") == "" {
		t.Skip("set EOSWEEP_SCALING=1 to measure (minutes)")
	}
	spec := "model: relu\ngrid:\n  eta: {linspace: [0.5, 4, 16]}\n  seed: {range: [0, 4]}\nparams: {steps: 2000}\n"
	var walls []time.Duration
	for _, workers := range []int{1, 2} {
		dir := t.TempDir()
		path := writeSpec(t, dir, fmt.Sprintf("name: scaling-%d\n%s", workers, spec))
		coord, addr := startCoordinator(t, filepath.Join(dir, "c.db"), "127.0.0.1:0")
		var ws []*proc
		for i := range workers {
			ws = append(ws, startWorker(t, addr, filepath.Join(dir, fmt.Sprint(i, ".log")), "--parallel", "1"))
		}
		start := time.Now()
		sub := submitSpec(t, addr, path)
		if sub.Trials != 64 {
			t.Fatalf("%d trials", sub.Trials)
		}
		waitSweep(t, addr, sub.Sweep, "the sweep", 30*time.Minute, sweepDone)
		wall := time.Since(start)
		walls = append(walls, wall)
		var cpu time.Duration
		for _, w := range ws {
			w.stop(t)
			cpu += w.cmd.ProcessState.UserTime() + w.cmd.ProcessState.SystemTime()
		}
		coord.stop(t)
		coordCPU := coord.cmd.ProcessState.UserTime() + coord.cmd.ProcessState.SystemTime()
		t.Logf("%d worker process(es) × 1 slot: 64 relu trials in %v (%.2f s/trial); workers used %.1f CPU-s (%.2f cores on average), the coordinator %.2f CPU-s",
			workers, wall.Round(time.Millisecond), wall.Seconds()/64, cpu.Seconds(), cpu.Seconds()/wall.Seconds(), coordCPU.Seconds())
	}
	speedup := walls[0].Seconds() / walls[1].Seconds()
	t.Logf("speedup with 2 workers: %.2f×", speedup)
	if speedup < 1.8 {
		t.Errorf("speedup %.2f× < 1.8× (is the machine busy? 2 cores are needed)", speedup)
	}
}
