package store

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// TestSchedulerCompacts: under a write load that needs compactions (small
// memtables, random keys), the scheduler grants them: L0 is compacted
// down, and once the load stops the LSM settles with nothing running.
func TestSchedulerCompacts(t *testing.T) {
	sched := newScheduler()
	opts := &pebble.Options{Logger: pebbleLogger{discard()}, MemTableSize: 256 << 10, L0CompactionThreshold: 2, L0StopWritesThreshold: 1000}
	opts.Experimental.CompactionScheduler = sched
	db, err := pebble.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 200)
	for i := range 40 {
		b := db.NewBatch()
		for range 1000 {
			var k [16]byte
			binary.BigEndian.PutUint64(k[:], rng.Uint64())
			binary.BigEndian.PutUint64(k[8:], uint64(i))
			if err := b.Set(k[:], val, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	waitStore(t, 30*time.Second, "compactions done and L0 compacted", func() bool {
		m := db.Metrics()
		sched.mu.Lock()
		running := sched.mu.running
		sched.mu.Unlock()
		return m.Compact.Count > 0 && running == 0 && m.Levels[0].TablesCount < 2 && m.Compact.NumInProgress == 0
	})
}

// waitStore polls cond until it holds or timeout passes.
func waitStore(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
