package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func newHealthCmd() *cobra.Command {
	var (
		service string
		timeout time.Duration
		coord   dialFlags
	)
	cmd := &cobra.Command{
		Use:   "health --coordinator ADDR",
		Short: "Ask a coordinator's gRPC health service; exit 0 only when SERVING",
		Long: `Ask the coordinator's standard gRPC health service (grpc.health.v1) whether it
is serving. Prints the status and exits 0 for SERVING, 1 otherwise. Meant for
container health checks: the eosweep image has no shell or curl, so
docker-compose runs "eosweep health" itself. Health checks need no token; give
--tls-ca for a TLS coordinator.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := coord.dial()
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
			if err != nil {
				return fmt.Errorf("health %s: %w", coord.address(), err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), resp.GetStatus())
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("health %s: %s", coord.address(), resp.GetStatus())
			}
			return nil
		},
	}
	f := cmd.Flags()
	coord.bind(f, defaultCoordinator, "coordinator (or its --health-listen) address HOST:PORT") // security.go
	f.StringVar(&service, "service", "", `service to ask about ("" = the server as a whole, or eosweep.v1.CoordinatorService)`)
	f.DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}
