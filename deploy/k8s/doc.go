// Package k8s holds eosweep's Kubernetes manifests; its tests decode every
// manifest strictly into the Kubernetes API types and check that selectors,
// ports, probes, secrets, mounts, priorities and CPU requests fit together.
package k8s
