// Package scaletest runs one sweep of a million trials through real eosweep
// processes — a coordinator and two workers on loopback — and measures what
// issue 11 asks of it: submit time, the coordinator's memory while the sweep
// waits and while it runs, the time from SIGTERM to a restarted coordinator
// serving `status` again, the run to completion, and a report of every trial.
// Its only code is the test:
//
//	EOSWEEP_SCALE=1 go test -run TestScale -v -timeout 30m ./internal/scaletest
//
// Without EOSWEEP_SCALE=1 it runs the same steps on a 2,000-trial sweep (and
// says SKIPPED for the large one); with -short it is skipped (it builds and
// runs the eosweep binary).
package scaletest
