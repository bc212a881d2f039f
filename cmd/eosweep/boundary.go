package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/boundary"
)

func newBoundaryCmd() *cobra.Command {
	var (
		format string
		from   sourceFlags
	)
	cmd := &cobra.Command{
		Use:   "boundary SWEEP (--coordinator ADDR | --db PATH) [--format table|csv|json]",
		Short: "Print a sweep's boundary: η* per group, with theory and stability lines",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			write := map[string]func(*cobra.Command, []boundary.Group) error{
				"table": func(c *cobra.Command, g []boundary.Group) error { return boundary.WriteTable(c.OutOrStdout(), g) },
				"csv":   func(c *cobra.Command, g []boundary.Group) error { return boundary.WriteCSV(c.OutOrStdout(), g) },
				"json":  func(c *cobra.Command, g []boundary.Group) error { return boundary.WriteJSON(c.OutOrStdout(), g) },
			}[format]
			if write == nil {
				return fmt.Errorf("flag --format %q: want table, csv or json", format)
			}
			src, err := from.open()
			if err != nil {
				return err
			}
			defer src.Close()
			groups, err := src.Boundary(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return write(cmd, groups)
		},
	}
	from.bind(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	return cmd
}
