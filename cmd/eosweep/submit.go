package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	pb "github.com/eosweep/eosweep/proto/eosweep/v1"
)

// submitOutput is what `eosweep submit --json` prints.
type submitOutput struct {
	Sweep   string `json:"sweep"`
	Trials  int64  `json:"trials"`
	Created bool   `json:"created"`
}

func newSubmitCmd() *cobra.Command {
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
			verb := "created"
			if !out.Created {
				verb = "resumed"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s %s: %d trials\n", out.Sweep, verb, out.Trials)
			return nil
		},
	}
	coord.bind(cmd.Flags(), "", "coordinator address HOST:PORT") // security.go
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"sweep", "trials", "created"} as JSON`)
	return cmd
}
