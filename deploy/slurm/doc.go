// Package slurm holds the Slurm job-array script; its tests check the
// script's flags and (opt-in with EOSWEEP_SLURM_E2E=1, on the one-node
// cluster of ci-cluster.sh) run the README's Slurm recipe for real.
package slurm
