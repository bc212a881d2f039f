package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestTrialsStreamedOutputs: `trials`, which writes a page of trials at a
// time, writes the bytes of the whole-list writers it replaced: the JSON
// list of json.Encoder with a two-space indent, the CSV with every
// parameter any trial has; and the table aligned a block of tableBlock rows
// at a time (one table, as before, for a listing of fewer).
func TestTrialsStreamedOutputs(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	id := fillStore(t, db, 2400, nil) // more than a page of the store's reads (localTrialsPage)
	ctx := context.Background()
	out := func(format string) string {
		t.Helper()
		stdout, stderr, err := execute(ctx, "trials", id, "--db", db, "--format", format)
		if err != nil {
			t.Fatalf("trials --format %s: %v\n%s", format, err, stderr)
		}
		return stdout
	}
	gotJSON := out("json")
	var rows []trialRow
	if err := json.Unmarshal([]byte(gotJSON), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2400 {
		t.Fatalf("%d rows, want 2400", len(rows))
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rows); err != nil {
		t.Fatal(err)
	}
	if gotJSON != want.String() {
		t.Errorf("json differs from the encoder's list (%d and %d bytes)", len(gotJSON), want.Len())
	}

	names := map[string]bool{}
	for _, r := range rows {
		for k := range r.Params {
			names[k] = true
		}
	}
	params := orderParams(slices.Collect(maps.Keys(names)))
	want.Reset()
	cw := csv.NewWriter(&want)
	_ = cw.Write(append([]string{"trial", "state", "attempt", "round", "worker", "deadline", "error"}, params...))
	for _, r := range rows {
		rec := []string{r.Trial, r.State, strconv.Itoa(r.Attempt), strconv.Itoa(r.Round), r.Worker, "", r.Error}
		for _, p := range params {
			rec = append(rec, strconv.FormatFloat(r.Params[p], 'g', -1, 64))
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	if got := out("csv"); got != want.String() {
		t.Errorf("csv differs from the whole-list csv:\n%.300s\nwant\n%.300s", got, want.String())
	}

	want.Reset()
	tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
	_, _ = io.WriteString(tw, "TRIAL\tSTATE\tATTEMPT\teta\tseed\tWORKER\tDEADLINE\tERROR\n")
	for i, r := range rows {
		_, _ = io.WriteString(tw, strings.Join([]string{r.Trial, r.State, strconv.Itoa(r.Attempt),
			strconv.FormatFloat(r.Params["eta"], 'g', 6, 64), strconv.FormatFloat(r.Params["seed"], 'g', 6, 64), "-", "-", "-"}, "\t")+"\n")
		if (i+1)%tableBlock == 0 {
			_ = tw.Flush() // aligned a block of rows at a time
		}
	}
	_ = tw.Flush()
	if got := out("table"); got != want.String() {
		t.Errorf("table differs from blocks of %d aligned rows:\n%.300s\nwant\n%.300s", tableBlock, got, want.String())
	}
}

// TestTrialsHeapPerTrial: `trials` holds a page of trials, not the sweep:
// its live heap grows by little per trial of the sweep, in every format.
// (Before, it read every record first: 670 to 907 bytes a trial.)
func TestTrialsHeapPerTrial(t *testing.T) {
	sizes := []int{2000, 12000}
	if testing.Short() {
		sizes = []int{1000, 6000}
	}
	dir := t.TempDir()
	ctx := context.Background()
	ids := make([]string, len(sizes))
	dbs := make([]string, len(sizes))
	for i, n := range sizes {
		dbs[i] = filepath.Join(dir, strconv.Itoa(n)+".db")
		ids[i] = fillStore(t, dbs[i], n, nil)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(20)) // frequent GCs: closer samples of the peak
	for _, format := range []string{"table", "csv", "json"} {
		peaks := make([]uint64, len(sizes))
		for i := range sizes {
			runtime.GC()
			h := watchLiveHeap()
			var stderr bytes.Buffer
			root := newRootCmd(&deps{stdout: io.Discard, stderr: &stderr})
			root.SetArgs([]string{"trials", ids[i], "--db", dbs[i], "--format", format})
			err := root.ExecuteContext(ctx)
			peaks[i] = h.stop()
			if err != nil {
				t.Fatalf("trials --format %s: %v\n%s", format, err, stderr.String())
			}
		}
		perTrial := (float64(peaks[1]) - float64(peaks[0])) / float64(sizes[1]-sizes[0])
		t.Logf("%s: peak live heap %v bytes for %v trials: %.0f bytes a trial", format, peaks, sizes, perTrial)
		if perTrial > 150 {
			t.Errorf("trials --format %s: the live heap grows by %.0f bytes a trial: is the sweep held?", format, perTrial)
		}
	}
}
