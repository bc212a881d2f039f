package coordinator_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eosweep/eosweep/coordinator"
	"github.com/eosweep/eosweep/coordinator/coordinatortest"
	"github.com/eosweep/eosweep/internal/transport"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// With a token configured, submitting an exec sweep — running code on the
// workers — needs the token like every RPC: without it or with a wrong one
// the call is refused and no sweep exists; with it, the sweep is created.
func TestExecSubmitNeedsToken(t *testing.T) {
	t.Parallel()
	const token = "exec-submit-token"
	opts, err := transport.ServerOptions(transport.ServerConfig{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := coordinatortest.Start(t, coordinator.Config{ServerOptions: opts})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Serve(lis) }() // Shutdown (at cleanup) stops it
	dial := func(tok transport.Secret) pb.CoordinatorServiceClient {
		do, err := transport.DialOptions(transport.ClientConfig{Token: tok, AllowInsecureToken: true})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(lis.Addr().String(), do...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return pb.NewCoordinatorServiceClient(conn)
	}
	ctx := context.Background()
	req := &pb.SubmitSweepRequest{SpecYaml: execSweep}
	for name, cl := range map[string]pb.CoordinatorServiceClient{"no token": dial(""), "wrong token": dial("guess")} {
		if _, err := cl.SubmitSweep(ctx, req); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: submit %v, want Unauthenticated", name, err)
		}
		if _, err := cl.LeaseTrial(ctx, &pb.LeaseTrialRequest{WorkerId: "w", AllowExec: true}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: lease %v, want Unauthenticated", name, err)
		}
	}
	if n := len(c.Scheduler.Sweeps()); n != 0 {
		t.Fatalf("%d sweeps after refused submits", n)
	}
	resp, err := dial(token).SubmitSweep(ctx, req)
	if err != nil || !resp.GetCreated() {
		t.Fatalf("submit with the token: %v, %v", resp, err)
	}
}
