// Package deploy holds eosweep's deployment files: the Dockerfile and build
// script, docker-compose, Kubernetes manifests (k8s/), the Slurm job array
// (slurm/), Prometheus and Grafana (prometheus/, grafana/). It is a module of
// its own so that its tests' dependencies stay out of the binary; its tests
// check that every eosweep command line in those files uses flags the real
// binary has.
package deploy
