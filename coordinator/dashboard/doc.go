// Package dashboard serves the coordinator's read-only web dashboard: the
// sweeps with their progress, a sweep's phase diagram, per-group panels and
// boundary table with its failed and leased trials, a trial's trajectory,
// and the workers. Pages are HTML from html/template with embedded CSS and a
// little JavaScript (no external assets); figures are SVG drawn on the server
// by the report's figure builders (package report).
//
// # Basics
//
// New builds the handler over a Source: FromCoordinator reads the
// coordinator's scheduler (sweeps, progress, trials) and store (results),
// the same reads its gRPC handlers make. Serve serves it on an address
// (ListenAddr: a bare port binds loopback), over HTTPS with the
// coordinator's certificate when given one; Shutdown ends its event streams
// first. eosweep coordinator --http and eosweep run wire it.
//
// A sweep's analysis (analysis.go) is kept per sweep: the trials joined with
// their results by package finished, analysed for every metric of the spec
// with each group marked with what it lacks (finished.AnalyzeEach), and the
// figures of the first metric's analysis drawn on demand and kept while no
// trial finishes. It is refreshed only when the sweep changed, at most once
// per Config.AnalyseEvery and never more often than four times what the last
// refresh and drawing took, and each refresh reads only the results that are
// new. Pages never wait for a refresh but a sweep's first (up to
// Config.FirstWait); the event streams drive the refreshes.
//
// A page holds the URL of its live part and of its event stream
// (Server-Sent Events, GET /events). The stream reads the page's data on
// every tick (Config.UpdateEvery) and sends "update" when it changed, and at
// least every idleEvery ticks while a sweep runs; the page's script then
// fetches the live part and swaps it in once its new figures have loaded.
//
// Only GET and HEAD are served, but POST /login and POST /logout, which set
// and clear the session cookie. With Config.Token every page, figure and
// stream needs "Authorization: Bearer <token>" or the HttpOnly,
// SameSite=Strict cookie the login form sets (an HMAC of its expiry under the
// token, never the token); tokens are compared in constant time
// (transport.Secret.Matches). Every response carries a Content-Security-Policy
// that allows nothing from elsewhere and no inline script.
//
// # Caveats
//
// FromCoordinator's TrialPage copies one page of the scheduler's trials,
// with the worker of each lease; Trial still copies and filters the whole
// list (a trial page of a 100,000-trial sweep copies it once per view).
// Workers is the scheduler's registry (scheduler.Workers: bounded to
// scheduler.MaxWorkers, counts since the coordinator started); a Source
// without one wraps ErrNoWorkers.
//
// The analysis reads the results' summaries (Source.Summaries: the store
// skips the trajectories while decoding, store.Summary); the first analysis
// of a large sweep still takes a while (BenchmarkFirstAnalysis256), and pages
// say so until it is done.
//
// Links are absolute: behind a reverse proxy the dashboard must sit at the
// root of its host, and the proxy must keep the Host header (a login form's
// Origin must name it) and not buffer /events. Without TLS, here or at the
// proxy, the token typed into the login form crosses the network in
// plaintext.
package dashboard
