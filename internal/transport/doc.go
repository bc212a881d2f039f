// Package transport is the one place where eosweep's gRPC servers and clients
// get their connection options: optional TLS (with an optional client CA for
// mutual TLS), a shared bearer token checked on every RPC, keepalive and its
// enforcement, the reconnect backoff and gRPC's retry of the idempotent reads.
//
// # Basics
//
// The coordinator builds its server options with ServerOptions, workers and
// clients build their dial options with DialOptions; each takes a plain config
// struct (ServerConfig, ClientConfig) that the CLI fills from flags, and
// returns the complete option list. Zero keepalive, backoff and retry fields
// take the package defaults, so the zero config is a working plaintext one.
// Interceptors of other concerns (metrics) are the caller's to add.
//
// The token comes from LoadToken: a file (first choice) or the EOSWEEP_TOKEN
// environment variable. With a token configured, every RPC without
// "authorization: Bearer <token>" fails with codes.Unauthenticated and the
// handler never runs.
//
// # Caveats
//
// The gRPC health service (grpc.health.v1.Health) is exempt from the token so
// that Docker and Kubernetes probes, which cannot send credentials, work. It
// reveals only serving status. Kubernetes' native gRPC probe also cannot speak
// TLS, so a TLS coordinator should serve health on a separate plaintext port
// as well (see the coordinator's --health-listen flag).
//
// A token sent over plaintext can be read by anyone on the path, so
// DialOptions refuses a token without TLS unless AllowInsecureToken is set,
// which is meant for loopback tests and private container networks only.
//
// The token is never logged: errors name the file, never its content.
package transport
