package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// RetryPolicy is gRPC's own retry of the named methods when they fail with
// UNAVAILABLE (the retryPolicy of a service config). Only idempotent calls
// belong in it: leases, heartbeats and reports are retried by the worker
// itself, which knows which outcomes to keep.
type RetryPolicy struct {
	// Methods are the retried methods' full names ("/package.Service/Method").
	// Nil means DefaultRetry.Methods; an empty, non-nil slice retries nothing.
	Methods []string
	// MaxAttempts counts every attempt, the first included (gRPC caps it at 5).
	// Zero means DefaultRetry.MaxAttempts.
	MaxAttempts int
	// InitialBackoff bounds the random wait before the first retry. Zero
	// means DefaultRetry.InitialBackoff.
	InitialBackoff time.Duration
	// MaxBackoff bounds the wait before any retry. Zero means
	// DefaultRetry.MaxBackoff.
	MaxBackoff time.Duration
	// BackoffMultiplier grows the bound after each retry. Zero means
	// DefaultRetry.BackoffMultiplier.
	BackoffMultiplier float64
}

// DefaultRetry retries the coordinator's idempotent reads.
var DefaultRetry = RetryPolicy{
	Methods: []string{
		pb.CoordinatorService_GetSweep_FullMethodName,
		pb.CoordinatorService_ListSweeps_FullMethodName,
		pb.CoordinatorService_ListTrials_FullMethodName,
		pb.CoordinatorService_GetBoundary_FullMethodName,
	},
	MaxAttempts:       4,
	InitialBackoff:    100 * time.Millisecond,
	MaxBackoff:        2 * time.Second,
	BackoffMultiplier: 2,
}

// The JSON form of a gRPC service config, as far as retries need it.
type (
	serviceConfigJSON struct {
		MethodConfig []methodConfigJSON `json:"methodConfig"`
	}
	methodConfigJSON struct {
		Name        []methodNameJSON `json:"name"`
		RetryPolicy retryPolicyJSON  `json:"retryPolicy"`
	}
	methodNameJSON struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	retryPolicyJSON struct {
		MaxAttempts          int      `json:"maxAttempts"`
		InitialBackoff       string   `json:"initialBackoff"`
		MaxBackoff           string   `json:"maxBackoff"`
		BackoffMultiplier    float64  `json:"backoffMultiplier"`
		RetryableStatusCodes []string `json:"retryableStatusCodes"`
	}
)

// serviceConfig returns the policy, its zero fields defaulted, as a gRPC
// service config (JSON).
func (p RetryPolicy) serviceConfig() (string, error) {
	methods := p.Methods
	if methods == nil {
		methods = DefaultRetry.Methods
	}
	rp := retryPolicyJSON{
		MaxAttempts:          orDefault(p.MaxAttempts, DefaultRetry.MaxAttempts),
		InitialBackoff:       seconds(orDefault(p.InitialBackoff, DefaultRetry.InitialBackoff)),
		MaxBackoff:           seconds(orDefault(p.MaxBackoff, DefaultRetry.MaxBackoff)),
		BackoffMultiplier:    orDefault(p.BackoffMultiplier, DefaultRetry.BackoffMultiplier),
		RetryableStatusCodes: []string{"UNAVAILABLE"},
	}
	switch {
	case rp.MaxAttempts < 2:
		return "", fmt.Errorf("retry policy: MaxAttempts %d: want at least 2 (the first attempt and one retry)", p.MaxAttempts)
	case p.InitialBackoff < 0 || p.MaxBackoff < 0:
		return "", errors.New("retry policy: InitialBackoff and MaxBackoff must not be negative")
	case rp.BackoffMultiplier <= 0:
		return "", fmt.Errorf("retry policy: BackoffMultiplier %g: want a positive factor", p.BackoffMultiplier)
	}
	if len(methods) == 0 {
		return "{}", nil
	}
	mc := methodConfigJSON{RetryPolicy: rp}
	for _, m := range methods {
		service, method, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
		if !ok || service == "" || method == "" {
			return "", fmt.Errorf("retry policy: method %q: want /package.Service/Method", m)
		}
		mc.Name = append(mc.Name, methodNameJSON{Service: service, Method: method})
	}
	b, err := json.Marshal(serviceConfigJSON{MethodConfig: []methodConfigJSON{mc}})
	if err != nil {
		return "", fmt.Errorf("retry policy: %w", err)
	}
	return string(b), nil
}

// seconds formats d as a protobuf JSON duration ("0.1s").
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
