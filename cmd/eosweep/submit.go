package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/spec"
	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// submitOutput is what `eosweep submit --json` prints.
type submitOutput struct {
	Sweep   string `json:"sweep"`
	Trials  int64  `json:"trials"`
	Created bool   `json:"created"`
}

func newSubmitCmd(d *deps) *cobra.Command {
	var (
		asJSON bool
		coord  dialFlags
	)
	cmd := &cobra.Command{
		Use:   "submit SPEC --coordinator ADDR [--json]",
		Short: "Submit a sweep spec to a coordinator and print the sweep id",
		Long: `Submit a YAML sweep spec. The coordinator validates it (a bad spec is refused
with a message naming the field) and creates its trials. Submitting the same
spec again resumes that sweep (same id) instead of duplicating it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := coord.required(); err != nil {
				return err
			}
			text, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read spec: %w", err)
			}
			// Refuse here what a new sweep needs (a name, ...); the grid's size
			// is the coordinator's to judge (its --max-trials).
			if _, err := spec.ParseNew(text, math.MaxInt32); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			conn, err := coord.dial()
			if err != nil {
				return err
			}
			defer conn.Close()
			resp, err := pb.NewCoordinatorServiceClient(conn).SubmitSweep(cmd.Context(), &pb.SubmitSweepRequest{SpecYaml: string(text)})
			if err != nil {
				return fmt.Errorf("submit %s: %w", args[0], err)
			}
			sw := resp.GetSweep()
			out := submitOutput{Sweep: sw.GetId(), Trials: sw.GetProgress().GetTotal(), Created: resp.GetCreated()}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Sweep)
			msg := "sweep created"
			if !out.Created {
				msg = "sweep resumed"
			}
			d.logger().Info(msg, "sweep", out.Sweep, "name", sw.GetName(), "trials", out.Trials, "state", stateText(sw))
			return nil
		},
	}
	coord.bind(cmd.Flags(), defaultCoordinator, "coordinator address HOST:PORT") // security.go
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"sweep", "trials", "created"} as JSON`)
	return cmd
}
