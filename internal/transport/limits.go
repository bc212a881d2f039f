package transport

import (
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxMessageBytes is the largest gRPC message eosweep sends or accepts, on
// servers and clients alike: 16 MiB, four times gRPC's default of 4 MiB.
// Senders keep well below it: workers report in batches of at most
// worker.DefaultReportBytes (1 MiB, which also fits a server still on gRPC's
// default), and the coordinator pages its answers by bytes. A message over the
// limit fails with codes.ResourceExhausted ("message larger than max"), which
// IsMessageTooLarge recognises.
const MaxMessageBytes = 16 << 20

// MaxStreamsPerConn is the most RPCs (streams) a server runs at once on one
// client connection; further ones wait in the client until one ends. It
// bounds what one connection can hold open (idle WatchSweep streams, say)
// while leaving room for many simulated workers sharing one connection (the
// load test) and for a worker's lease long poll, heartbeats and reports.
const MaxStreamsPerConn = 1000

// callOptions are a client's default call options: the message limits.
func (c ClientConfig) callOptions() grpc.DialOption {
	return grpc.WithDefaultCallOptions(
		grpc.MaxCallSendMsgSize(orDefault(c.MaxSendBytes, MaxMessageBytes)),
		grpc.MaxCallRecvMsgSize(orDefault(c.MaxRecvBytes, MaxMessageBytes)))
}

// IsMessageTooLarge reports whether err is gRPC's refusal of a message over a
// size limit: the client's own send limit ("trying to send message larger than
// max") or the server's receive limit ("received message larger than max").
// Both come as codes.ResourceExhausted; other ResourceExhausted errors (a
// quota, a server out of memory) are not size refusals, and retrying a smaller
// message would not help them.
func IsMessageTooLarge(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.ResourceExhausted && strings.Contains(s.Message(), "message larger than max")
}
