// Package boundtest checks that a call returns in bounded time and memory:
// the fuzzers' and the bounds tests' assertion that no input makes a parser
// or a validator run long or allocate much.
package boundtest

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// Call runs fn and fails tb if it takes longer than d or allocates more than
// maxBytes in all (runtime.MemStats.TotalAlloc around the call, so callers
// do not run in parallel with other allocating work). A call that has not
// returned after d panics the test binary rather than let it run on, maybe
// allocating without end; a fuzzer reports that as a crash with the input.
// It returns the bytes fn allocated.
func Call(tb testing.TB, d time.Duration, maxBytes uint64, fn func()) uint64 {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		panic(fmt.Sprintf("%s: did not return within %v", tb.Name(), d))
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	if got > maxBytes {
		tb.Errorf("allocated %d bytes in %v, want at most %d", got, took, maxBytes)
	}
	return got
}
