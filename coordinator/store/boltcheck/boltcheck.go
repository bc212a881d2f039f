// Package boltcheck checks the structure of a bbolt file by reading it, not
// by mapping it, so that a damaged file cannot crash the process that checks
// it.
//
// # Basics
//
// bbolt trusts its file: it maps it into memory and follows every page id
// and offset it finds there. A file truncated below what its meta page
// claims makes those reads fault past the end of the file (SIGBUS), and a
// flipped byte in a page header or an element sends them anywhere (SIGSEGV)
// or into bbolt's assertions (panics). Check reads the file with ReadAt and
// verifies, before bbolt ever sees it, everything bbolt would follow: the
// meta page bbolt would choose (magic, version, checksum, page size), that
// the file holds every page below the meta's high-water mark, the freelist
// page and its ids, and then every page reachable from the root bucket:
// its header (id, type, overflow within the high-water mark), its elements'
// keys and values within the page, keys in order, bucket roots and inline
// buckets, each page reached once (no cycles, no shared pages), and, when
// the whole tree was walked, that every page is either in use or free and
// never both. A file that passes can be opened and read by bbolt without a
// fault: every address it follows lies in the file.
//
// Check stops when its context is done and says how far it got: the meta
// and freelist checks (what bbolt reads when it opens a file) always run;
// the tree walk is what a deadline bounds.
//
// # Caveats
//
// bbolt pages carry no checksum: a flipped byte inside a key or a value
// leaves a structurally sound file, which Check cannot tell from the real
// thing. The reader of the values decodes and checks them. The file format
// read is bbolt's version 2 in the byte order of the machine that wrote it
// (bbolt writes native-endian structs); Check assumes the machine's own.
package boltcheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// bbolt's file format (go.etcd.io/bbolt/internal/common).
const (
	magic         = 0xED0CDAED
	version       = 2
	pageHeader    = 16 // id u64, flags u16, count u16, overflow u32
	elementSize   = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	bucketHeader  = 16 // root pgid u64, sequence u64
	metaSize      = 64 // magic, version, pageSize, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	branchFlag    = 0x01
	leafFlag      = 0x02
	metaFlag      = 0x04
	freelistFlag  = 0x10
	bucketLeaf    = 0x01
	noFreelist    = ^uint64(0)
	minPageSize   = 512
	maxPageSize   = 1 << 24
	ctxCheckEvery = 256
	maxProblems   = 20
)

var order = binary.NativeEndian

// Report is what Check found.
type Report struct {
	FileSize int64
	PageSize int
	Pages    uint64 // high-water mark: the pages the meta page says the file holds
	TxID     uint64 // the transaction of the meta page bbolt would use
	Meta     int    // which meta page that is (0 or 1)
	Walked   uint64 // pages reached from the root, overflow pages included
	Free     uint64 // pages on the freelist
	// Complete is true when the whole tree was walked; false when the
	// context ended first (what was walked is still checked).
	Complete bool
	// Problems lists what is wrong, at most 20; empty when nothing is.
	Problems []string
}

// OK reports whether nothing wrong was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Summary is a one-line account of the first problem and how many there were.
func (r Report) Summary() string {
	switch len(r.Problems) {
	case 0:
		return "no problems found"
	case 1:
		return r.Problems[0]
	}
	more := fmt.Sprintf("%d more problems", len(r.Problems)-1)
	if len(r.Problems) == maxProblems {
		more = fmt.Sprintf("at least %d more problems", len(r.Problems)-1)
	}
	return r.Problems[0] + " (and " + more + ")"
}

// errStop ends a walk that has found enough problems.
var errStop = errors.New("too many problems")

type checker struct {
	r      io.ReaderAt
	rep    *Report
	ps     uint64
	hwm    uint64
	seen   []uint64 // bitset over [0, hwm): pages reached
	free   []uint64 // bitset over [0, hwm): pages on the freelist
	buf    []byte
	synced bool // the freelist is on disk (else bbolt rebuilds it from the tree)

	rootPage, freelistPage uint64
}

// Check checks the bbolt file r of size bytes (see the package doc). Its
// error is an I/O error reading r; damage is reported in Report.Problems.
// An empty file (bbolt initialises it) has no problems.
func Check(ctx context.Context, r io.ReaderAt, size int64) (Report, error) {
	rep := Report{FileSize: size}
	if size == 0 {
		rep.Complete = true
		return rep, nil
	}
	c := &checker{r: r, rep: &rep}
	if err := c.meta(size); err != nil || !rep.OK() {
		return rep, err
	}
	c.seen = make([]uint64, (c.hwm+63)/64)
	c.free = make([]uint64, (c.hwm+63)/64)
	c.mark(c.seen, 0)
	c.mark(c.seen, 1)
	if err := c.freelist(); err != nil || !rep.OK() {
		if errors.Is(err, errStop) {
			err = nil
		}
		return rep, err
	}
	err := c.walk(ctx)
	if errors.Is(err, errStop) {
		err = nil
	}
	if err != nil || !rep.Complete || !rep.OK() {
		return rep, ignoreCtx(err)
	}
	c.leaks()
	return rep, nil
}

func ignoreCtx(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

func (c *checker) problem(format string, args ...any) error {
	c.rep.Problems = append(c.rep.Problems, fmt.Sprintf(format, args...))
	if len(c.rep.Problems) >= maxProblems {
		return errStop
	}
	return nil
}

type meta struct {
	pageType             uint16
	pageSize             uint32
	root, freelist, pgid uint64
	txid                 uint64
	valid                bool // as bbolt judges it: magic, version and checksum
	why                  string
}

func readMeta(b []byte) meta {
	if len(b) < pageHeader+metaSize {
		return meta{why: "shorter than a meta page"}
	}
	m := b[pageHeader:]
	mt := meta{
		pageType: order.Uint16(b[8:]), pageSize: order.Uint32(m[8:]),
		root: order.Uint64(m[16:]), freelist: order.Uint64(m[32:]), pgid: order.Uint64(m[40:]),
		txid: order.Uint64(m[48:]),
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	switch {
	case order.Uint32(m[0:]) != magic:
		mt.why = "no bbolt magic number"
	case order.Uint32(m[4:]) != version:
		mt.why = fmt.Sprintf("bbolt format version %d, not %d", order.Uint32(m[4:]), version)
	case order.Uint64(m[56:]) != h.Sum64():
		mt.why = "checksum mismatch"
	default:
		mt.valid = true
	}
	return mt
}

// meta reads the two meta pages, picks the one bbolt would (the valid one
// with the higher transaction id) and checks it against the file's size.
func (c *checker) meta(size int64) error {
	first := make([]byte, min(size, 4096))
	if _, err := c.r.ReadAt(first, 0); err != nil && err != io.EOF {
		return fmt.Errorf("read meta page 0: %w", err)
	}
	m0 := readMeta(first)
	// The second meta page sits one page in; its size comes from the first,
	// or, if that is bad, is found as bbolt finds it: try 1 KiB … 16 MiB.
	var m1 meta
	sizes := []uint32{m0.pageSize}
	if !m0.valid {
		sizes = sizes[:0]
		for i := range 15 {
			sizes = append(sizes, 1024<<i)
		}
	}
	buf := make([]byte, pageHeader+metaSize)
	for _, ps := range sizes {
		if int64(ps) < minPageSize || int64(ps)+int64(len(buf)) > size {
			continue
		}
		if _, err := c.r.ReadAt(buf, int64(ps)); err != nil && err != io.EOF {
			return fmt.Errorf("read meta page 1: %w", err)
		}
		if m1 = readMeta(buf); m1.valid {
			break
		}
	}
	use, idx := m0, 0
	if m1.valid && (!m0.valid || m1.txid > m0.txid) {
		use, idx = m1, 1
	}
	if !use.valid {
		return c.problem("neither meta page is valid (page 0: %s; page 1: %s): not a bbolt file, or its first pages are damaged",
			m0.why, orDefault(m1.why, "unreadable"))
	}
	c.rep.Meta, c.rep.TxID, c.rep.PageSize, c.rep.Pages = idx, use.txid, int(use.pageSize), use.pgid
	if m0.valid && m1.valid && m0.pageSize != m1.pageSize {
		return c.problem("the meta pages disagree on the page size (%d and %d)", m0.pageSize, m1.pageSize)
	}
	if use.pageType != metaFlag {
		return c.problem("meta page %d: page type %#x, not meta", idx, use.pageType)
	}
	ps := uint64(use.pageSize)
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return c.problem("meta page %d: page size %d is not a power of two in [%d, %d]", idx, ps, minPageSize, maxPageSize)
	}
	if use.pgid < 3 {
		return c.problem("meta page %d: high-water mark %d pages: a bbolt file has at least 3", idx, use.pgid)
	}
	if use.pgid > uint64(size)/ps {
		return c.problem("the file is %d bytes but its meta page says it holds %d pages of %d bytes (%d bytes): it was truncated",
			size, use.pgid, ps, use.pgid*ps)
	}
	if use.root < 2 || use.root >= use.pgid {
		return c.problem("meta page %d: root bucket page %d is outside [2, %d)", idx, use.root, use.pgid)
	}
	if use.freelist != noFreelist && (use.freelist < 2 || use.freelist >= use.pgid) {
		return c.problem("meta page %d: freelist page %d is outside [2, %d)", idx, use.freelist, use.pgid)
	}
	c.ps, c.hwm, c.synced = ps, use.pgid, use.freelist != noFreelist
	c.rootPage, c.freelistPage = use.root, use.freelist
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *checker) mark(set []uint64, id uint64)        { set[id/64] |= 1 << (id % 64) }
func (c *checker) marked(set []uint64, id uint64) bool { return set[id/64]&(1<<(id%64)) != 0 }

// page reads page id and its overflow pages after checking its header: the
// id it names, a type in want, and overflow pages below the high-water mark.
// It marks the pages reached; a page reached twice is a problem.
func (c *checker) page(id uint64, want ...uint16) ([]byte, bool, error) {
	head := make([]byte, pageHeader)
	if _, err := c.r.ReadAt(head, int64(id*c.ps)); err != nil {
		return nil, false, fmt.Errorf("read page %d: %w", id, err)
	}
	hid, flags, overflow := order.Uint64(head), order.Uint16(head[8:]), uint64(order.Uint32(head[12:]))
	if hid != id {
		return nil, false, c.problem("page %d: its header says it is page %d", id, hid)
	}
	ok := false
	for _, w := range want {
		ok = ok || flags == w
	}
	if !ok {
		return nil, false, c.problem("page %d: page type %#x where a %s page belongs", id, flags, typeNames(want))
	}
	if overflow >= c.hwm-id {
		return nil, false, c.problem("page %d: %d overflow pages run past the high-water mark %d", id, overflow, c.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if c.marked(c.seen, i) {
			return nil, false, c.problem("page %d: reached twice (a cycle, or pages shared by two parents)", i)
		}
		c.mark(c.seen, i)
	}
	c.rep.Walked += overflow + 1
	n := (overflow + 1) * c.ps
	if uint64(cap(c.buf)) < n {
		c.buf = make([]byte, n)
	}
	b := c.buf[:n]
	if _, err := c.r.ReadAt(b, int64(id*c.ps)); err != nil {
		return nil, false, fmt.Errorf("read page %d: %w", id, err)
	}
	return b, true, nil
}

func typeNames(flags []uint16) string {
	names := map[uint16]string{branchFlag: "branch", leafFlag: "leaf", metaFlag: "meta", freelistFlag: "freelist"}
	s := ""
	for i, f := range flags {
		if i > 0 {
			s += " or "
		}
		s += names[f]
	}
	return s
}

// freelist checks the freelist page bbolt reads at open: its ids fit the
// page and lie in [2, high-water mark), each once.
func (c *checker) freelist() error {
	if !c.synced {
		return nil
	}
	b, ok, err := c.page(c.freelistPage, freelistFlag)
	if err != nil || !ok {
		return err
	}
	count, idx := uint64(order.Uint16(b[10:])), uint64(0)
	if count == 0xFFFF {
		if len(b) < pageHeader+8 {
			return c.problem("freelist page %d: too short for its count", c.freelistPage)
		}
		count, idx = order.Uint64(b[pageHeader:]), 1
	}
	if room := uint64(len(b)-pageHeader) / 8; count > room || idx+count > room {
		return c.problem("freelist page %d: %d ids do not fit its %d bytes", c.freelistPage, count, len(b))
	}
	for i := range count {
		id := order.Uint64(b[pageHeader+(idx+i)*8:])
		if id < 2 || id >= c.hwm {
			if err := c.problem("freelist page %d: free page %d is outside [2, %d)", c.freelistPage, id, c.hwm); err != nil {
				return err
			}
			continue
		}
		if c.marked(c.free, id) {
			if err := c.problem("freelist page %d: page %d is freed twice", c.freelistPage, id); err != nil {
				return err
			}
		}
		c.mark(c.free, id)
		c.rep.Free++
	}
	return nil
}

// walk visits every page reachable from the root bucket.
func (c *checker) walk(ctx context.Context) error {
	stack := []uint64{c.rootPage}
	for n := 0; len(stack) > 0; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id < 2 || id >= c.hwm {
			// Reported where the reference was read; unreachable here.
			continue
		}
		b, ok, err := c.page(id, branchFlag, leafFlag)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if stack, err = c.elements(fmt.Sprintf("page %d", id), b, stack, false); err != nil {
			return err
		}
	}
	c.rep.Complete = true
	return nil
}

// elements checks the elements of the page in b (a page of the file, or an
// inline bucket's page inside a value: inline) and pushes the pages they
// refer to.
func (c *checker) elements(where string, b []byte, stack []uint64, inline bool) ([]uint64, error) {
	if len(b) < pageHeader {
		return stack, c.problem("%s: shorter than a page header", where)
	}
	flags, count := order.Uint16(b[8:]), uint64(order.Uint16(b[10:]))
	if flags != branchFlag && flags != leafFlag {
		return stack, c.problem("%s: page type %#x, not branch or leaf", where, flags)
	}
	if pageHeader+count*elementSize > uint64(len(b)) {
		return stack, c.problem("%s: %d elements do not fit its %d bytes", where, count, len(b))
	}
	if flags == branchFlag && count == 0 {
		return stack, c.problem("%s: a branch page without elements", where)
	}
	var prev []byte
	for i := range count {
		off := pageHeader + i*elementSize
		e := b[off : off+elementSize]
		var pos, ksize, vsize uint64
		if flags == branchFlag {
			pos, ksize = uint64(order.Uint32(e[0:])), uint64(order.Uint32(e[4:]))
		} else {
			pos, ksize, vsize = uint64(order.Uint32(e[4:])), uint64(order.Uint32(e[8:])), uint64(order.Uint32(e[12:]))
		}
		start := off + pos // all u32: no overflow
		if start+ksize+vsize > uint64(len(b)) {
			return stack, c.problem("%s: element %d's key and value (%d+%d bytes at %d) lie outside the page's %d bytes",
				where, i, ksize, vsize, start, len(b))
		}
		key := b[start : start+ksize]
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			if err := c.problem("%s: element %d's key is not after element %d's", where, i, i-1); err != nil {
				return stack, err
			}
		}
		prev = key
		if flags == branchFlag {
			child := order.Uint64(e[8:])
			if child < 2 || child >= c.hwm {
				if err := c.problem("%s: element %d points at page %d, outside [2, %d)", where, i, child, c.hwm); err != nil {
					return stack, err
				}
				continue
			}
			stack = append(stack, child)
			continue
		}
		if order.Uint32(e[0:])&bucketLeaf == 0 {
			continue
		}
		val := b[start+ksize : start+ksize+vsize]
		if len(val) < bucketHeader {
			if err := c.problem("%s: bucket %q: value of %d bytes, shorter than a bucket header", where, key, len(val)); err != nil {
				return stack, err
			}
			continue
		}
		root := order.Uint64(val)
		if root == 0 {
			if inline {
				// bbolt inlines only buckets without sub-buckets.
				if err := c.problem("%s: bucket %q inside an inline bucket", where, key); err != nil {
					return stack, err
				}
				continue
			}
			var err error
			if stack, err = c.elements(fmt.Sprintf("%s: inline bucket %q", where, key), val[bucketHeader:], stack, true); err != nil {
				return stack, err
			}
			continue
		}
		if root < 2 || root >= c.hwm {
			if err := c.problem("%s: bucket %q: root page %d is outside [2, %d)", where, key, root, c.hwm); err != nil {
				return stack, err
			}
			continue
		}
		stack = append(stack, root)
	}
	return stack, nil
}

// leaks reports pages below the high-water mark that are neither reached nor
// free, and pages that are both (bbolt would hand out a page in use).
func (c *checker) leaks() {
	var lost, both uint64
	var firstLost, firstBoth uint64
	for id := uint64(2); id < c.hwm; id++ {
		seen, free := c.marked(c.seen, id), c.marked(c.free, id)
		switch {
		case seen && free:
			if both == 0 {
				firstBoth = id
			}
			both++
		case !seen && !free && c.synced:
			if lost == 0 {
				firstLost = id
			}
			lost++
		}
	}
	if both > 0 {
		_ = c.problem("%d pages are in use and on the freelist (the first: page %d)", both, firstBoth)
	}
	if lost > 0 {
		_ = c.problem("%d pages are neither in use nor free (the first: page %d)", lost, firstLost)
	}
}
