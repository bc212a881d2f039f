package store_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eosweep/eosweep/coordinator/store"
	"github.com/eosweep/eosweep/engine"
)

// damageSweeps and damageTrials size the store the damage tests write: a
// real store, written by this package, with branch pages, overflow pages
// (each result's 255-point trajectory is ~15 KB) and nested buckets.
const (
	damageSweeps = 3
	damageTrials = 120
)

// pristine holds the bytes of the closed, healthy stores the damage tests
// copy, by trials per sweep.
var pristine sync.Map // int → func() ([]byte, error)

// pristineStore returns the bytes of a closed, healthy store file with
// damageTrials trials per sweep.
func pristineStore(t *testing.T) []byte { return pristineStoreOf(t, damageTrials) }

// pristineStoreOf returns the bytes of a closed, healthy store file with
// trials trials (and results) in each of its damageSweeps sweeps.
func pristineStoreOf(t *testing.T, trials int) []byte {
	t.Helper()
	f, _ := pristine.LoadOrStore(trials, sync.OnceValues(func() ([]byte, error) { return writeStore(trials) }))
	b, err := f.(func() ([]byte, error))()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeStore(trials int) (storeFile []byte, storeErr error) {
	{
		dir, err := os.MkdirTemp("", "eosweep-damage")
		if err != nil {
			storeErr = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "eosweep.db")
		s, err := store.Open(path, store.Options{})
		if err != nil {
			storeErr = err
			return
		}
		traj := make([]engine.Point, 255)
		for i := range traj {
			traj[i] = engine.Point{Step: 4 * i, Loss: 1 / float64(i+1), Bias: -0.001 * float64(i), Sharpness: 3.25}
		}
		for w := range damageSweeps {
			sw := store.Sweep{ID: fmt.Sprintf("sw%d", w), Name: "damage", Model: "single",
				SpecYAML: "model: single\ngrid: {eta: [1]}\n", State: store.SweepRunning, Created: time.Unix(int64(100+w), 0).UTC()}
			ops := []store.Op{must(store.SweepOp(sw))}
			for i := range trials {
				tr := store.Trial{Sweep: sw.ID, ID: fmt.Sprintf("t%03d", i), Seq: i, Params: map[string]float64{"eta": 1.5}, State: store.Done}
				ops = append(ops, must(store.TrialOp(tr)),
					must(store.ResultOp(tr, engine.Result{FinalBias: -0.25, StepsRun: 1016, Trajectory: traj})))
			}
			if storeErr = s.Apply(ops...); storeErr != nil {
				return
			}
		}
		if storeErr = s.Close(); storeErr != nil {
			return
		}
		storeFile, storeErr = os.ReadFile(path)
	}
	return storeFile, storeErr
}

// damagedCopy writes the pristine store, changed by damage, to a new file
// and returns its path.
func damagedCopy(t *testing.T, damage func([]byte) []byte) string {
	t.Helper()
	return damagedCopyOf(t, pristineStore(t), damage)
}

func damagedCopyOf(t *testing.T, pristine []byte, damage func([]byte) []byte) string {
	t.Helper()
	data := damage(append([]byte(nil), pristine...))
	path := filepath.Join(t.TempDir(), "eosweep.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantDamaged checks err is Open's refusal of the damaged file at path: it
// wraps ErrDamaged, names the file and says what to do.
func wantDamaged(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatal("a damaged store opened")
	}
	msg := err.Error()
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(msg, path) ||
		!strings.Contains(msg, "eosweep doctor --db "+path) || !strings.Contains(msg, "restore the file from a copy") {
		t.Fatalf("error %q: want ErrDamaged naming %s, `eosweep doctor --db FILE` and a restore", msg, path)
	}
}

// TestOpenRefusesTruncatedStore is issue 9 item 7: a store truncated to 1%,
// 25% or 75% of its size panicked inside bbolt or died of SIGBUS/SIGSEGV in
// Open (today's main: "fatal error: fault" at 1% and 75%, "invalid freelist
// page" at 25%). It is refused at Open, read-write or read-only, with an
// error naming the file, and Doctor reports it without crashing either.
// (bbolt grows its file ahead of use; the store is written so that 75% of
// it cuts into the pages in use, which TestTruncatedTailOpens complements.)
func TestOpenRefusesTruncatedStore(t *testing.T) {
	t.Parallel()
	b := pristineStore(t)
	if used := usedBytes(b); used <= len(b)*75/100 {
		t.Fatalf("the pristine store uses %d of its %d bytes: 75%% would not cut into it", used, len(b))
	}
	for _, pct := range []int{1, 25, 75} {
		for _, ro := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d%%/read-only=%v", pct, ro), func(t *testing.T) {
				t.Parallel()
				path := damagedCopy(t, func(b []byte) []byte { return b[:len(b)*pct/100] })
				s, err := store.Open(path, store.Options{ReadOnly: ro})
				if err == nil {
					s.Close()
				}
				wantDamaged(t, err, path)
				if pct > 1 && !strings.Contains(err.Error(), "truncated") {
					t.Errorf("error %q does not say the file was truncated", err)
				}
				d, err := store.Doctor(context.Background(), path, store.Options{})
				if err != nil {
					t.Fatalf("doctor: %v", err)
				}
				if d.OK() || d.Structure.OK() {
					t.Fatalf("doctor found nothing wrong: %+v", d)
				}
			})
		}
	}
}

// TestTruncatedTailOpens: cutting the file's unused tail (bbolt grows the
// file ahead of the pages in use) loses nothing, and the store opens.
func TestTruncatedTailOpens(t *testing.T) {
	t.Parallel()
	path := damagedCopy(t, func(b []byte) []byte { return b[:usedBytes(b)] })
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for w := range damageSweeps {
		res, err := s.Results(fmt.Sprintf("sw%d", w))
		if err != nil || len(res) != damageTrials {
			t.Fatalf("sweep %d: %d results, %v", w, len(res), err)
		}
	}
}

// usedBytes is the size of the pages in use: the high-water mark of the
// meta page bbolt uses, in bytes.
func usedBytes(b []byte) int {
	ps := pageSize(b)
	m0, m1 := b[16:], b[ps+16:]
	m := m0
	if binary.NativeEndian.Uint64(m1[48:]) > binary.NativeEndian.Uint64(m0[48:]) {
		m = m1
	}
	return int(binary.NativeEndian.Uint64(m[40:])) * ps
}

// pageSize is the page size of the pristine store (bbolt's default: the OS
// page size), read from its first meta page.
func pageSize(b []byte) int { return int(binary.NativeEndian.Uint32(b[16+8:])) }

// pagesOfType returns the ids of the pages of b whose header has flags.
func pagesOfType(b []byte, flags uint16) []int {
	ps := pageSize(b)
	free := freePages(b)
	var out []int
	for id := 2; (id+1)*ps <= len(b); id++ {
		h := b[id*ps:]
		if binary.NativeEndian.Uint64(h) == uint64(id) && binary.NativeEndian.Uint16(h[8:]) == flags && !free[id] {
			out = append(out, id)
		}
	}
	return out
}

// freePages returns the pages on the freelist of the meta page bbolt uses.
// A freed page keeps its old header, so a scan by header alone finds pages
// bbolt never reads again, and damage there is rightly not seen: which
// pages are freed depends on how the writes were grouped into transactions.
// (In a healthy store every other page is reachable: boltcheck reports
// pages that are neither as leaks.)
func freePages(b []byte) map[int]bool {
	ps := pageSize(b)
	p := b[freelistPage(b)*ps:]
	n, ids := int(binary.NativeEndian.Uint16(p[10:])), p[16:]
	if n == 0xFFFF { // the count overflows the header: it is the first id
		n, ids = int(binary.NativeEndian.Uint64(ids)), ids[8:]
	}
	free := make(map[int]bool, n)
	for i := range n {
		free[int(binary.NativeEndian.Uint64(ids[8*i:]))] = true
	}
	return free
}

// freelistPage returns the freelist page of the meta page bbolt uses (the
// one with the higher transaction id; both are valid in the pristine store).
func freelistPage(b []byte) int {
	ps := pageSize(b)
	m0, m1 := b[16:], b[ps+16:]
	m := m0
	if binary.NativeEndian.Uint64(m1[48:]) > binary.NativeEndian.Uint64(m0[48:]) {
		m = m1
	}
	return int(binary.NativeEndian.Uint64(m[32:]))
}

// TestOpenRefusesBadPages: damage where bbolt follows it — a page header
// naming another page, a branch element pointing far past the end of the
// file (today: SIGSEGV in the first read), a freelist id out of range — is
// refused at Open.
func TestOpenRefusesBadPages(t *testing.T) {
	t.Parallel()
	b := pristineStore(t)
	ps := pageSize(b)
	branches, leaves := pagesOfType(b, 0x01), pagesOfType(b, 0x02)
	if len(branches) == 0 || len(leaves) == 0 {
		t.Fatalf("store has %d branch and %d leaf pages: want some of each", len(branches), len(leaves))
	}
	for _, c := range []struct {
		name   string
		damage func([]byte)
		want   string
	}{
		{"leaf header id", func(b []byte) { binary.NativeEndian.PutUint64(b[leaves[len(leaves)/2]*ps:], 1<<40) }, "its header says"},
		{"branch child far away", func(b []byte) {
			binary.NativeEndian.PutUint64(b[branches[0]*ps+16+8:], 1<<40)
		}, "points at page 1099511627776"},
		{"leaf element past the page", func(b []byte) {
			binary.NativeEndian.PutUint32(b[leaves[0]*ps+16+4:], 1<<30)
		}, "lie outside the page"},
		{"page type", func(b []byte) { b[branches[0]*ps+8] = 0x7f }, "page type 0x7f"},
		{"freelist id", func(b []byte) {
			p := freelistPage(b) * ps
			binary.NativeEndian.PutUint16(b[p+10:], 1)
			binary.NativeEndian.PutUint64(b[p+16:], 1<<50)
		}, "outside [2,"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := damagedCopy(t, func(b []byte) []byte { c.damage(b); return b })
			s, err := store.Open(path, store.Options{})
			if err == nil {
				s.Close()
			}
			wantDamaged(t, err, path)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

// flipRounds is how many damaged copies TestFlippedBytesNeverCrash opens.
const flipRounds = 200

// TestFlippedBytesNeverCrash flips random bytes in random pages of a real
// store, flipRounds times (a fifth of that with -short): Open refuses the file (ErrDamaged) or opens it, and then
// every read and a write return, with data or an error, and never panic or
// fault. (bbolt pages have no checksums: a flip inside a value can only be
// found by decoding it, and is.)
func TestFlippedBytesNeverCrash(t *testing.T) {
	t.Parallel()
	const trials = 6 // a small store: 200 copies of it are opened and read
	pristine := pristineStoreOf(t, trials)
	ps := pageSize(pristine)
	pages := usedBytes(pristine) / ps
	rounds := flipRounds
	if testing.Short() {
		rounds = flipRounds / 5
	}
	rng := rand.New(rand.NewPCG(9, 7))
	var refused, damagedRead, readErr, clean int
	for round := range rounds {
		page := 2 + rng.IntN(pages-2)
		flips := 1 + rng.IntN(4)
		offsets := make([]int, flips)
		for i := range offsets {
			if rng.IntN(2) == 0 {
				offsets[i] = page*ps + rng.IntN(64) // the header and first elements
			} else {
				offsets[i] = page*ps + rng.IntN(ps)
			}
		}
		path := damagedCopyOf(t, pristine, func(b []byte) []byte {
			for _, o := range offsets {
				b[o] ^= byte(1 + rng.IntN(255))
			}
			return b
		})
		s, err := store.Open(path, store.Options{NoSync: true})
		if err != nil {
			if !errors.Is(err, store.ErrDamaged) {
				t.Logf("round %d (page %d): Open: %v", round, page, err)
			}
			refused++
			continue
		}
		var errs []error
		_, err = s.Sweeps()
		errs = append(errs, err)
		for w := range damageSweeps {
			id := fmt.Sprintf("sw%d", w)
			trials, err := s.Trials(id)
			errs = append(errs, err)
			_, err = s.Results(id)
			errs = append(errs, err)
			_, err = s.ResultsFor(trials)
			errs = append(errs, err)
		}
		tr := store.Trial{Sweep: "sw0", ID: "new", Seq: trials, State: store.Pending}
		errs = append(errs, s.Apply(must(store.TrialOp(tr))), s.Close())
		switch err := errors.Join(errs...); {
		case errors.Is(err, store.ErrDamaged):
			damagedRead++
		case err != nil:
			readErr++ // a record that does not decode
		default:
			clean++
		}
	}
	t.Logf("%d damaged copies: %d refused at Open, %d opened and a read or write found bbolt's damage, "+
		"%d opened and a record did not decode, %d read cleanly (flips in values or unused bytes)",
		rounds, refused, damagedRead, readErr, clean)
	t.Logf("(the store: %d pages in use of %d bytes)", pages, ps)
	if refused == 0 {
		t.Error("no damaged copy was refused at Open")
	}
}

// TestTruncatedUnderOpenStore: a file truncated while a store has it open
// (another process, a full disk's repair) makes the next read fail with
// ErrDamaged instead of killing the process with SIGBUS.
func TestTruncatedUnderOpenStore(t *testing.T) {
	t.Parallel()
	path := damagedCopy(t, func(b []byte) []byte { return b })
	s, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Truncate(path, int64(len(pristineStore(t))/10)); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for w := range damageSweeps {
		_, err := s.Results(fmt.Sprintf("sw%d", w))
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("reads of a truncated file: %v, want ErrDamaged", err)
	}
}

// TestHealthyStoreChecked: Open's check walks the whole of a healthy store
// and Doctor finds nothing wrong in it, with every record counted.
func TestHealthyStoreChecked(t *testing.T) {
	t.Parallel()
	path := damagedCopy(t, func(b []byte) []byte { return b })
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Checked(); !c.OK() || !c.Complete || c.Walked == 0 {
		t.Errorf("Checked() = %+v, want a complete walk without problems", c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Without a walk, what bbolt reads at open is still checked.
	s, err = store.Open(path, store.Options{ReadOnly: true, CheckTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Checked(); !c.OK() || c.Complete || c.Pages == 0 {
		t.Errorf("Checked() without a walk = %+v", c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := store.Doctor(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.OK() || d.Sweeps != damageSweeps || d.Trials != damageSweeps*damageTrials || d.Results != damageSweeps*damageTrials {
		t.Fatalf("doctor: %+v", d)
	}
}

// TestDoctorFindsBadRecords: a flipped byte inside a stored value leaves
// the structure sound; Doctor's decode of every record finds it.
func TestDoctorFindsBadRecords(t *testing.T) {
	t.Parallel()
	path := damagedCopy(t, func(b []byte) []byte {
		i := strings.Index(string(b), `"state":3`)
		if i < 0 {
			t.Fatal("no trial record found")
		}
		b[i+1] = 0 // "state" → "\x00tate": the record no longer decodes
		b[i+len(`"state":`)] = '{'
		return b
	})
	d, err := store.Doctor(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.OK() || d.Records != 1 || len(d.RecordProblems) != 1 || !strings.Contains(d.RecordProblems[0], "trials/") {
		t.Fatalf("doctor: %+v", d)
	}
}
