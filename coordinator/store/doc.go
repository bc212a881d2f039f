// Package store keeps sweeps, trials and results in a bbolt file.
//
// # Basics
//
// The file has a versioned schema: a "meta" bucket holds the schema version
// (Open refuses a newer one) and the coordinator's lease secret; "sweeps" maps
// a sweep id to its record; "trials" and "results" hold one nested bucket per
// sweep, mapping a trial's Seq (8 bytes, big-endian) to its record and to its
// serialised engine.Result tagged with the trial id; "trial_ids" (schema 2)
// maps a trial id to the Seq and sweep of a stored result of it, so that a
// new sweep reuses it (Reusable). Open migrates an older file by adding only.
//
// Writes go through Apply, which hands pre-encoded puts to a single committer
// goroutine. The committer takes everything waiting and writes it in one
// bbolt transaction (one fsync), with no artificial delay: group commit.
// Apply returns once the write is durable. A group of ops given to one Apply
// call is written atomically.
//
// One Apply call's failure is its own, as with bbolt's DB.Batch: when the
// transaction of a group fails, the committer writes each request of the
// group again in a transaction of its own, in queue order, so only the
// requests that cannot be written alone (an empty key, a value too large)
// get an error and the others are written. This is safe because requests are
// pre-encoded puts: the failed transaction wrote nothing, and writing a put
// again writes the same bytes. Writes keep their queue order throughout. An
// update (UpdateOp) sets a stored trial's state fields and keeps the rest of
// its record's bytes: the scheduler holds no parameters to write back, and a
// restart reads each record's head without decoding them (EachTrialHead).
//
// The trial-id index is written behind the results it indexes (index.go):
// entries of committed results wait in memory, where Reusable reads them,
// and reach the bucket in one sorted transaction at maxPendingIDs entries,
// after idleFlush without writes, before a delete and at Close. Its keys are
// hashes: written with each result, every commit rewrote thousands of its
// pages. A flag in meta says entries wait; Open, finding it after a crash,
// indexes the results the index lacks.
//
// Leaf pages are filled as the writes come (submitFill, runFill): a sweep's
// trials and results are written in Seq order, so bbolt's default half-full
// split would double their pages. Every Options.ReleaseEvery the pages read
// through bbolt's mapping of the file are handed back to the kernel
// (ReleaseMapped), so the resident set does not grow with the file.
//
// Results are most of the file (a trajectory of up to engine.MaxTrajectory
// points each). The analysis reads them without it: Summaries reads
// (EachTrialResult, SummariesFor; summary.go) skip the
// trajectory while decoding and give what Summary gives, so a sweep's
// analysis holds none.
//
// # Caveats
//
// The store does not check state transitions; the scheduler owns them. Reads
// (Sweeps, Trials, Results) open their own read transactions and may run
// concurrently with the committer. A read-only Store (client commands reading
// a stopped coordinator's file) cannot Apply. A group whose transaction fails
// for a reason every request shares (a full disk, a failed fsync) costs one
// more transaction per request before each gets the error.
package store
