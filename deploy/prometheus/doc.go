// Package prometheus holds the example Prometheus configuration and alert
// rules; its tests check every query in them and in deploy/grafana against
// what the binaries export, run promtool on live /metrics, and (opt-in with
// EOSWEEP_PROMETHEUS=1) a real Prometheus scraping a sweep.
package prometheus
