// Package kube runs deploy/k8s on a real single-node Kubernetes (opt-in with
// EOSWEEP_K8S_E2E=1): it builds and caches the Kubernetes binaries from the
// module proxy, brings up etcd, the control plane, a kubelet with its own
// containerd, kube-proxy and CoreDNS on a bridge of its own, applies the
// README's recipe and checks that a sweep survives worker and coordinator
// faults. It prints SKIPPED where the cluster cannot start.
package kube
