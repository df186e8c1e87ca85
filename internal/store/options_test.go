package store

import (
	"testing"
	"time"
)

// TestMemTableSize checks the range, step and average of the memtable
// sizes DBs are opened with, and that different draws give different
// sizes.
func TestMemTableSize(t *testing.T) {
	steps := uint64((memTableMax - memTableMin) / memTableStep)
	var asked uint64
	draw := func(v uint64) func(uint64) uint64 {
		return func(n uint64) uint64 { asked = n; return v }
	}
	if got := memTableSize(draw(0)); got != memTableMin {
		t.Errorf("the lowest draw gave %d, want %d", got, memTableMin)
	}
	if asked != steps {
		t.Errorf("drew among %d sizes, want %d", asked, steps)
	}
	if got, want := memTableSize(draw(steps-1)), uint64(memTableMax-memTableStep); got != want {
		t.Errorf("the highest draw gave %d, want %d", got, want)
	}
	a, b := memTableSize(draw(3)), memTableSize(draw(4))
	if b-a != memTableStep {
		t.Errorf("neighbouring draws gave %d and %d, want %d apart", a, b, memTableStep)
	}
	// The sustained figures in docs/performance.md were measured with 32
	// MiB: the sizes drawn average that, within a step.
	var sum uint64
	for v := range steps {
		sum += memTableSize(draw(v))
	}
	if mean := sum / steps; mean+memTableStep < 32<<20 || mean > 32<<20+memTableStep {
		t.Errorf("the sizes drawn average %d bytes, want 32 MiB within %d", mean, memTableStep)
	}
}

// TestFirstFlushAt checks the range and step of the first flush's point.
func TestFirstFlushAt(t *testing.T) {
	steps := uint64((firstFlushMax - firstFlushMin) / memTableStep)
	var asked uint64
	draw := func(v uint64) func(uint64) uint64 {
		return func(n uint64) uint64 { asked = n; return v }
	}
	if got := firstFlushAt(draw(0)); got != firstFlushMin {
		t.Errorf("the lowest draw gave %d, want %d", got, firstFlushMin)
	}
	if asked != steps {
		t.Errorf("drew among %d points, want %d", asked, steps)
	}
	if got, want := firstFlushAt(draw(steps-1)), uint64(firstFlushMax-memTableStep); got != want {
		t.Errorf("the highest draw gave %d, want %d", got, want)
	}
}

// TestFirstFlush checks that a DB flushes once of its own accord when the
// quants written since Open reach its first flush's point, and not before
// nor again.
func TestFirstFlush(t *testing.T) {
	db := openTest(t, "")
	if db.firstFlushAt < firstFlushMin || db.firstFlushAt >= firstFlushMax {
		t.Fatalf("first flush at %d bytes, want in [%d, %d)", db.firstFlushAt, firstFlushMin, firstFlushMax)
	}
	db.firstFlushAt = 256 << 10 // far below the memtable's size
	flushes := func() int64 { return db.pdb.Metrics().Flush.Count }
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), 1)
	grow(t, c, b, bang, 1, 10)
	if n := flushes(); n != 0 {
		t.Fatalf("%d flushes after %d bytes, want none before %d", n, db.written.Load(), db.firstFlushAt)
	}
	for db.written.Load() < db.firstFlushAt {
		grow(t, c, b, nil, 1, 100)
	}
	deadline := time.Now().Add(10 * time.Second)
	for flushes() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := flushes(); n != 1 {
		t.Fatalf("%d flushes after %d bytes, want 1 at %d", n, db.written.Load(), db.firstFlushAt)
	}
	grow(t, c, b, nil, 20, 100) // about 0.5 MiB more, in a 32 MiB memtable
	if n := flushes(); n != 1 {
		t.Errorf("%d flushes after %d bytes, want only the first", n, db.written.Load())
	}
}

// TestFirstFlushReadOnly checks that a read-only DB does not count
// towards, nor ask for, a flush.
func TestFirstFlushReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(Options{Dir: dir, Logger: discard(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.firstFlushAt != 0 {
		t.Errorf("a read-only DB would flush at %d bytes, want never (0)", ro.firstFlushAt)
	}
}
