// Package transport secures eosweep's gRPC connections: optional TLS (with an
// optional client CA for mutual TLS) and a shared bearer token checked on every
// RPC.
//
// # Basics
//
// The coordinator builds its server options with ServerOptions, workers and
// clients build their dial options with DialOptions; both take a plain config
// struct that the CLI fills from flags. The token comes from LoadToken: a file
// (first choice) or the EOSWEEP_TOKEN environment variable. With a token
// configured, every RPC without "authorization: Bearer <token>" fails with
// codes.Unauthenticated and the handler never runs.
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
