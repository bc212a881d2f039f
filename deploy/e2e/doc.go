// Package e2e is the docker-compose fault campaign (opt-in with
// EOSWEEP_COMPOSE_E2E=1): a coordinator and workers in containers, a worker
// killed, the coordinator restarted, a worker cut off its network; every trial
// stored once and equal to an embedded run of the same spec.
package e2e
