// Command pause is the pod sandbox program of the Kubernetes test: it holds
// a pod's namespaces open and does nothing until SIGTERM or SIGINT. Built
// static (CGO off), it is the whole of a FROM-scratch pause image, so the
// test's cluster pulls no image from any registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
