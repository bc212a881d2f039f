// Package chaos is a randomized fault campaign against real eosweep
// processes: one coordinator and two workers on loopback, a store on a small
// tmpfs, and a hostile client beside the workers. Its only code is the test
// (chaos_test.go, hostile_test.go, verify_test.go):
//
//	EOSWEEP_CHAOS=20 go test -count=1 -run TestChaos -v -timeout 60m ./internal/chaos
//
// Each of the N rounds submits a small refining sweep (sparse model, trials
// of ~10-100 ms) and, at random moments until it is done, SIGKILLs or
// SIGSTOPs/SIGCONTs the coordinator or a worker, or fills the store's tmpfs
// for a while (ENOSPC) and frees it again; all along a hostile client sends
// oversized and garbage RPCs, forged lease tokens, idle never-reading
// WatchSweep streams and specs that must be refused (non-advancing axes,
// huge grids, megabytes of comments). At the end every trial must be stored
// exactly once with a result equal, bit for bit, to an embedded `eosweep
// run` of the same spec; no sweep may be left RUNNING without work; and the
// coordinator's peak RSS (VmHWM) must stay under rssBound.
//
// The seed is printed; EOSWEEP_CHAOS_SEED=S replays a campaign's choices
// (the processes' timing still varies). Without EOSWEEP_CHAOS the test prints
// "SKIPPED: set EOSWEEP_CHAOS=N to run the fault campaign"; with -short it is
// skipped too. The ENOSPC windows need a tmpfs mount (root with
// CAP_SYS_ADMIN); where mounting is refused they are left out and the test
// says so. EOSWEEP_CHAOS_PAUSE (a duration, default a third of the lease
// TTL) is the longest SIGSTOP, and EOSWEEP_CHAOS_MAX_ATTEMPTS (default 1000)
// the coordinator's --max-attempts: set the pause above the TTL and the
// attempts low to look for the known pause-expiry issue, which the campaign
// then names in its findings.
package chaos
