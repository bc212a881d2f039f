package transport

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/keepalive"
)

// Defaults of the zero fields of ServerConfig and ClientConfig.
const (
	// DefaultKeepaliveTime is how long a connection may be idle before a ping.
	DefaultKeepaliveTime = 30 * time.Second
	// DefaultKeepaliveTimeout is how long a ping may go unanswered.
	DefaultKeepaliveTimeout = 10 * time.Second
	// DefaultMinPingInterval is how often a server lets a client ping at most
	// (at or below DefaultKeepaliveTime, so default clients are never refused).
	DefaultMinPingInterval = 10 * time.Second
	// DefaultMinConnectTimeout is the least time a connection attempt gets.
	DefaultMinConnectTimeout = 5 * time.Second
)

// DefaultBackoff is the reconnect backoff of a zero ClientConfig.Backoff.
var DefaultBackoff = backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// keepalive returns the server's keepalive parameters and enforcement policy.
func (c ServerConfig) keepalive() (keepalive.ServerParameters, keepalive.EnforcementPolicy) {
	return keepalive.ServerParameters{
			Time:    orDefault(c.KeepaliveTime, DefaultKeepaliveTime),
			Timeout: orDefault(c.KeepaliveTimeout, DefaultKeepaliveTimeout),
		}, keepalive.EnforcementPolicy{
			MinTime:             orDefault(c.MinPingInterval, DefaultMinPingInterval),
			PermitWithoutStream: true,
		}
}

// keepalive returns the client's keepalive parameters.
func (c ClientConfig) keepalive() keepalive.ClientParameters {
	return keepalive.ClientParameters{
		Time:                orDefault(c.KeepaliveTime, DefaultKeepaliveTime),
		Timeout:             orDefault(c.KeepaliveTimeout, DefaultKeepaliveTimeout),
		PermitWithoutStream: true,
	}
}

// connectParams returns the client's reconnect backoff and connect timeout.
func (c ClientConfig) connectParams() grpc.ConnectParams {
	return grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  orDefault(c.Backoff.BaseDelay, DefaultBackoff.BaseDelay),
			Multiplier: orDefault(c.Backoff.Multiplier, DefaultBackoff.Multiplier),
			Jitter:     orDefault(c.Backoff.Jitter, DefaultBackoff.Jitter),
			MaxDelay:   orDefault(c.Backoff.MaxDelay, DefaultBackoff.MaxDelay),
		},
		MinConnectTimeout: orDefault(c.MinConnectTimeout, DefaultMinConnectTimeout),
	}
}
