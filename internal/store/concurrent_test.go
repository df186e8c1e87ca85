package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestConcurrent writes two chains at once while readers read them; run
// under -race it checks the locking.
func TestConcurrent(t *testing.T) {
	db := openTest(t, "")
	bangs := []*quant.Quant{testBang(t, 1), testBang(t, 2)}
	var writers, readers sync.WaitGroup
	errs := make(chan error, 2*len(bangs))
	done := make(chan struct{})
	for i, bang := range bangs {
		c := db.Chain(bang.Hash())
		writers.Go(func() {
			b := newBuilder(c.ID(), uint64(i))
			if err := c.Connect(entry(bang, 0)); err != nil {
				errs <- err
				return
			}
			parent, ph := &bang.Header, bang.Hash()
			for range 30 {
				q := b.child(parent, ph, 20)
				// A second handle on the same chain, writing a side quant.
				if err := db.Chain(c.ID()).Save(entry(b.child(parent, ph, 1), 0)); err != nil {
					errs <- err
					return
				}
				if err := c.Connect(entry(q, 0)); err != nil {
					errs <- err
					return
				}
				parent, ph = &q.Header, q.Hash()
			}
		})
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				err := c.Iterate(context.Background(), 0, func(q *quant.Quant) error {
					for _, tx := range q.Txs {
						if _, _, err := c.Tx(tx.ID()); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, bang := range bangs {
		if _, m, err := db.Chain(bang.Hash()).Tip(); err != nil || m.Height != 30 {
			t.Errorf("tip at %d, %v; want 30", m.Height, err)
		}
	}
}

// TestCloseWaits checks that Close waits for a running Iterate and that
// later calls fail with ErrClosed.
func TestCloseWaits(t *testing.T) {
	db := openTest(t, "")
	bang := testBang(t, 1)
	c := db.Chain(bang.Hash())
	grow(t, c, newBuilder(c.ID(), 1), bang, 3, 1)
	inside := make(chan struct{})
	release := make(chan struct{})
	closed := make(chan error)
	iterErr := make(chan error)
	go func() {
		iterErr <- c.IterateHeaders(context.Background(), 0, func(h *quant.Header) error {
			if h.Height == 0 {
				close(inside)
				<-release
			}
			return nil
		})
	}()
	<-inside
	go func() { closed <- db.Close() }()
	// Close cannot finish while Iterate is inside fn; new calls are refused
	// as soon as Close has begun.
	for {
		if _, err := c.HashAt(0); errors.Is(err, ErrClosed) {
			break
		}
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while Iterate was running", err)
	default:
	}
	close(release)
	if err := <-iterErr; err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
