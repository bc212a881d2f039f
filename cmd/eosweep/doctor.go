package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/eosweep/eosweep/coordinator/store"
)

// errDamaged is doctor's error for a damaged store (its report is printed).
var errDamaged = errors.New("the store is damaged")

func newDoctorCmd() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "doctor --db FILE",
		Short: "Check a store file in full, without changing it; exit 1 if it is damaged",
		Long: `Check a store file from end to end without changing it: the structure of every
page (read from the file, so damage cannot crash the check), bbolt's own
consistency check, then every sweep, trial and result record. The coordinator
must be stopped. Prints what it found and exits 1 if the file is damaged:
restore it from a copy (eosweep cannot repair a damaged file). Opening a store
already refuses a damaged one; doctor says everything that is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := store.Doctor(cmd.Context(), db, store.Options{})
			if err != nil {
				return err
			}
			printDiagnosis(cmd.OutOrStdout(), d)
			if !d.OK() {
				return fmt.Errorf("%w: restore %s from a copy", errDamaged, db)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&db, "db", "eosweep.db", "store file to check")
	return cmd
}

func printDiagnosis(w io.Writer, d store.Diagnosis) {
	st := d.Structure
	fmt.Fprintf(w, "%s: %d bytes, %d pages of %d bytes (meta page %d, transaction %d)\n",
		d.Path, st.FileSize, st.Pages, st.PageSize, st.Meta, st.TxID)
	verdict := func(problems []string) string {
		switch len(problems) {
		case 0:
			return "ok"
		case 1:
			return "1 problem"
		}
		return fmt.Sprintf("%d problems", len(problems))
	}
	if st.Complete {
		fmt.Fprintf(w, "structure: %d pages in use, %d free: %s\n", st.Walked, st.Free, verdict(st.Problems))
	} else {
		fmt.Fprintf(w, "structure: %s (the walk of the pages stopped there)\n", verdict(st.Problems))
	}
	for _, p := range st.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if !d.BoltChecked {
		fmt.Fprintln(w, "bbolt check: not run (the structure is damaged)")
	} else {
		fmt.Fprintf(w, "bbolt check: %s\n", verdict(d.BoltCheck))
		for _, p := range d.BoltCheck {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if !d.RecordsChecked {
		fmt.Fprintln(w, "records: not read")
	} else {
		fmt.Fprintf(w, "records: %d sweeps, %d trials, %d results: ", d.Sweeps, d.Trials, d.Results)
		if d.Records == 0 {
			fmt.Fprintln(w, "ok")
		} else {
			fmt.Fprintf(w, "%d do not decode or are misplaced\n", d.Records)
		}
		for _, p := range d.RecordProblems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	if d.OK() {
		fmt.Fprintln(w, "healthy")
	} else {
		fmt.Fprintln(w, "damaged: restore the file from a copy (eosweep cannot repair it)")
	}
}
