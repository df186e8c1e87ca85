package store

import (
	"testing"
	"time"
)

// checkDrawn checks that pick, given a random source, draws among the
// values in [lo, hi) in steps of memTableStep, lowest and highest
// included.
func checkDrawn(t *testing.T, pick func(func(uint64) uint64) uint64, lo, hi uint64) {
	t.Helper()
	steps := (hi - lo) / memTableStep
	var asked uint64
	draw := func(v uint64) func(uint64) uint64 {
		return func(n uint64) uint64 { asked = n; return v }
	}
	if got := pick(draw(0)); got != lo {
		t.Errorf("the lowest draw gave %d, want %d", got, lo)
	}
	if asked != steps {
		t.Errorf("drew among %d values, want %d", asked, steps)
	}
	if got, want := pick(draw(steps-1)), hi-memTableStep; got != want {
		t.Errorf("the highest draw gave %d, want %d", got, want)
	}
	if a, b := pick(draw(3)), pick(draw(4)); b-a != memTableStep {
		t.Errorf("neighbouring draws gave %d and %d, want %d apart", a, b, memTableStep)
	}
}

// TestMemTableSize checks the range, step and average of the memtable
// sizes DBs are opened with.
func TestMemTableSize(t *testing.T) {
	checkDrawn(t, memTableSize, memTableMin, memTableMax)
	// The sustained figures in docs/performance.md were measured with 32
	// MiB: the sizes drawn average that, within a step.
	steps := uint64((memTableMax - memTableMin) / memTableStep)
	var sum uint64
	for v := range steps {
		sum += memTableSize(func(uint64) uint64 { return v })
	}
	if mean := sum / steps; mean+memTableStep < 32<<20 || mean > 32<<20+memTableStep {
		t.Errorf("the sizes drawn average %d bytes, want 32 MiB within %d", mean, memTableStep)
	}
}

// TestFirstFlushAt checks the range and step of the first flush's point.
func TestFirstFlushAt(t *testing.T) {
	checkDrawn(t, firstFlushAt, firstFlushMin, firstFlushMax)
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
	// A second flush asked for would run in the background: give it time
	// to show before saying there was none.
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if n := flushes(); n != 1 {
			t.Fatalf("%d flushes after %d bytes, want only the first", n, db.written.Load())
		}
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
