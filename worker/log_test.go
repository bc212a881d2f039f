package worker_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/scheduler"
	"github.com/eosweep/eosweep/worker"
)

// syncBuffer is a bytes.Buffer safe for the worker's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDebugLogNamesSweepAndTrial: at debug level every finished trial is one
// structured line carrying the worker, sweep and trial ids.
func TestDebugLogNamesSweepAndTrial(t *testing.T) {
	t.Parallel()
	c := start(t, 5*time.Second)
	id := submit(t, c, "model: single\ngrid: {eta: [0.5, 1, 1.5]}\nparams: {steps: 20}\n")
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	w := worker.New(c, worker.Config{ID: "wlog", Parallel: 1, Prefetch: 1, LeaseWait: 100 * time.Millisecond, Logger: log})
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	waitState(t, c, id, "3 trials done", func(p scheduler.Progress) bool { return p.Done == 3 })
	cancel()
	<-done
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, `msg="trial done"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d trial-done lines, want 3:\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		for _, want := range []string{"worker=wlog", "sweep=" + id, "trial=", "final_bias="} {
			if !strings.Contains(l, want) {
				t.Errorf("line %q lacks %q", l, want)
			}
		}
	}
}
