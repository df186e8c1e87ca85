package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// crashDirEnv names the store directory of the crash test's child process.
const crashDirEnv = "QBC_STORE_CRASH_DIR"

// TestCrash kills a writer with SIGKILL at random moments and checks that
// the reopened store is at or past the last height the writer reported
// committed, with every main-chain quant and index entry intact. The writer
// is this test binary, re-run as TestCrashChild.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: not in -short mode")
	}
	dir := filepath.Join(t.TempDir(), "db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const rounds = 4
	for round := range rounds {
		delay := time.Duration(10+rng.IntN(300)) * time.Millisecond
		last := runCrashChild(t, dir, round, delay)
		tip := checkCrashedStore(t, dir, last)
		t.Logf("round %d: killed %v after the first commit; last reported height %d, tip %d", round, delay, last, tip)
	}
}

// runCrashChild runs the writer until delay after its first report of a
// commit, kills it, and returns the last height it reported.
func runCrashChild(t *testing.T, dir string, round int, delay time.Duration) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, "QBC_STORE_CRASH_SEED="+strconv.Itoa(round+1))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan uint64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				h, err := strconv.ParseUint(s, 10, 64)
				if err == nil {
					lines <- h
				}
			}
		}
	}()

	var last uint64
	seen := false
	var kill <-chan time.Time
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case h, ok := <-lines:
			if !ok {
				// The pipe closed: the child is dead. Wait reaps it.
				err := cmd.Wait()
				if kill != nil {
					t.Fatalf("child exited before it was killed: %v", err)
				}
				if !seen {
					t.Fatalf("child exited without committing: %v", err)
				}
				return last
			}
			if seen && h < last {
				t.Fatalf("child reported height %d after %d", h, last)
			}
			last, seen = h, true
			if kill == nil {
				kill = time.After(delay)
			}
		case <-kill:
			kill = nil
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			// Read what the child wrote before it died: every line was
			// printed after its commit returned.
			for h := range lines {
				last = h
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != -1 {
				t.Fatalf("child did not die of the signal: %v", err)
			}
			return last
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("child reported no commit in time")
		}
	}
}

// checkCrashedStore reopens the store and checks it against the last
// height the child reported, returning the tip height.
func checkCrashedStore(t *testing.T, dir string, last uint64) uint64 {
	t.Helper()
	db, err := Open(Options{Dir: dir, Logger: discard()})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	// The committed-tip record may be behind the store (the child died
	// between a commit and its record), never ahead.
	if err := db.CheckCommitted(); err != nil {
		t.Fatalf("after kill: %v", err)
	}
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	tipHash, tip, err := c.Tip()
	if err != nil {
		t.Fatalf("Tip after kill: %v", err)
	}
	if tip.Height < last {
		t.Fatalf("tip height %d after kill, but height %d was reported committed", tip.Height, last)
	}
	var prev quant.Hash
	next := uint64(0)
	err = c.Iterate(context.Background(), 0, func(q *quant.Quant) error {
		h := q.Hash()
		hdr := &q.Header
		switch {
		case hdr.Height != next:
			return fmt.Errorf("quant at height %d, want %d", hdr.Height, next)
		case next == 0 && h != c.ID():
			return fmt.Errorf("bang is not the chain's")
		case next > 0 && hdr.Prev != prev:
			return fmt.Errorf("quant %d does not link to its parent", next)
		case next > 0 && hdr.TxRoot != quant.TxRoot(q.Txs):
			return fmt.Errorf("quant %d: transactions do not match the header's root", next)
		}
		m, err := c.Meta(h)
		if err != nil || m.Height != next || m.Work.Int64() != int64(next) {
			return fmt.Errorf("quant %d: meta %+v, %v", next, m, err)
		}
		for i, tx := range q.Txs {
			loc, err := c.TxLocation(tx.ID())
			if err != nil || loc != (chain.Location{Height: next, Index: uint32(i)}) {
				return fmt.Errorf("quant %d: transaction %d indexed at %+v, %v", next, i, loc, err)
			}
		}
		prev = h
		next++
		return nil
	})
	if err != nil {
		t.Fatalf("after kill: %v", err)
	}
	if prev != tipHash || next != tip.Height+1 {
		t.Fatalf("main chain ends at %d %s, tip is %d %s", next-1, short(prev), tip.Height, short(tipHash))
	}
	if _, err := c.HashAt(tip.Height + 1); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("a height above the tip is indexed: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return tip.Height
}

// TestCrashChild is the writer TestCrash kills: it extends the chain in
// the store named by $QBC_STORE_CRASH_DIR forever, printing each committed
// height, and every few quants replaces the tip by a reorg. Run on its own
// it is skipped.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	seed, _ := strconv.ParseUint(os.Getenv("QBC_STORE_CRASH_SEED"), 10, 64)
	db, err := Open(Options{Dir: dir, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	b := newBuilder(c.ID(), seed)
	// Nonces must not repeat across runs, or transaction ids would.
	b.nonce = seed << 40
	tipHash, _, err := c.Tip()
	if errors.Is(err, chain.ErrNotFound) {
		if err := c.Connect(entry(bang, 0)); err != nil {
			t.Fatal(err)
		}
		tipHash = bang.Hash()
	} else if err != nil {
		t.Fatal(err)
	}
	tip, err := c.Header(tipHash)
	if err != nil {
		t.Fatal(err)
	}
	report := func(h uint64) { fmt.Fprintf(os.Stdout, "committed %d\n", h) }
	report(tip.Height)
	// Stop on our own if the parent is gone, so no writer is left behind.
	stop := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(stop); i++ {
		if i%5 == 4 && tip.Height > 1 {
			// Replace the tip by two quants on its parent.
			parent, err := c.Header(tip.Prev)
			if err != nil {
				t.Fatal(err)
			}
			a := b.child(parent, tip.Prev, 1+int(b.rng.IntN(40)))
			a2 := b.child(&a.Header, a.Hash(), 1+int(b.rng.IntN(40)))
			if err := c.Reorg([]quant.Hash{tipHash}, []chain.Entry{entry(a, 0), entry(a2, 0)}); err != nil {
				t.Fatal(err)
			}
			tipHash, tip = a2.Hash(), &a2.Header
		} else {
			q := b.child(tip, tipHash, 1+int(b.rng.IntN(100)))
			if err := c.Connect(entry(q, 0)); err != nil {
				t.Fatal(err)
			}
			tipHash, tip = q.Hash(), &q.Header
		}
		report(tip.Height)
	}
	t.Fatal("not killed within a minute")
}
