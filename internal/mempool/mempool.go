// Package mempool holds transactions waiting for a leap: bounded by count
// and bytes, deduplicated by id, handed out oldest first. It checks nothing
// about a transaction's validity; the caller admits only what the chain has
// checked.
package mempool

import (
	"errors"
	"sync"

	"github.com/qbc-chain/qbc/internal/quant"
)

// ErrFull is returned when the pool has no room; the client should retry
// later (HTTP 429).
var ErrFull = errors.New("mempool: full")

// Options bound a pool.
type Options struct {
	MaxTxs   int   // most transactions held; default 200,000
	MaxBytes int64 // most encoded bytes held; default 128 MiB
}

// EnsureDefaults fills zero fields.
func (o *Options) EnsureDefaults() {
	if o.MaxTxs == 0 {
		o.MaxTxs = 200_000
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 128 << 20
	}
}

// Validate names the first bad field.
func (o *Options) Validate() error {
	if o.MaxTxs < 1 {
		return errors.New("mempool: MaxTxs must be at least 1")
	}
	if o.MaxBytes < quant.MaxTxSize {
		return errors.New("mempool: MaxBytes must hold at least one transaction of the largest size")
	}
	return nil
}

type entry struct {
	id   quant.Hash
	tx   *quant.Tx
	size int
	gone bool
}

// Pool is a bounded, deduplicated FIFO of transactions. It is safe for
// concurrent use.
type Pool struct {
	opts Options

	mu struct {
		sync.Mutex
		byID  map[quant.Hash]*entry
		queue []*entry // admission order; removed entries stay (gone) until compaction
		dead  int      // gone entries in queue
		bytes int64
		added chan struct{} // closed at the next Add; nil until Changed asks
	}
}

// New makes an empty pool.
func New(opts Options) (*Pool, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Pool{opts: opts}
	p.mu.byID = make(map[quant.Hash]*entry)
	return p, nil
}

// Add admits tx under id. It keeps tx (the caller must not change it
// afterwards). It refuses a transaction already held (a *quant.RuleError
// with CodeDuplicate) and one that would overflow the pool (ErrFull).
func (p *Pool) Add(id quant.Hash, tx *quant.Tx) error {
	size := tx.EncodedSize()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.mu.byID[id]; ok {
		return quant.Errorf(quant.CodeDuplicate, "transaction %s is already pending", id)
	}
	if len(p.mu.byID) >= p.opts.MaxTxs || p.mu.bytes+int64(size) > p.opts.MaxBytes {
		return ErrFull
	}
	e := &entry{id: id, tx: tx, size: size}
	p.mu.byID[id] = e
	p.mu.queue = append(p.mu.queue, e)
	p.mu.bytes += int64(size)
	if p.mu.added != nil {
		close(p.mu.added)
		p.mu.added = nil
	}
	return nil
}

// Changed returns a channel that is closed when a transaction is next
// added, so that a producer with nothing to do waits for work instead of
// polling. A caller asks for it before it looks at the pool (Len, Take),
// so that an Add in between is not missed. Every caller until that Add
// gets the same channel; it costs nothing while nobody asks.
func (p *Pool) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.added == nil {
		p.mu.added = make(chan struct{})
	}
	return p.mu.added
}

// Take returns up to maxTxs pending transactions, oldest first, whose
// encoded sizes add up to at most maxBytes, with their ids. They stay in the
// pool until Remove.
func (p *Pool) Take(maxTxs int, maxBytes int64) ([]*quant.Tx, []quant.Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var (
		txs   []*quant.Tx
		ids   []quant.Hash
		bytes int64
	)
	for _, e := range p.mu.queue {
		if len(txs) == maxTxs {
			break
		}
		if e.gone {
			continue
		}
		if bytes+int64(e.size) > maxBytes {
			break
		}
		bytes += int64(e.size)
		txs = append(txs, e.tx)
		ids = append(ids, e.id)
	}
	return txs, ids
}

// Remove drops the transactions with these ids (committed, or no longer
// valid). Unknown ids are ignored.
func (p *Pool) Remove(ids []quant.Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		e, ok := p.mu.byID[id]
		if !ok {
			continue
		}
		delete(p.mu.byID, id)
		e.gone = true
		e.tx = nil
		p.mu.bytes -= int64(e.size)
		p.mu.dead++
	}
	p.compactLocked()
}

// compactLocked drops removed entries from the queue once they are half of
// it, so Take does not walk over them for ever.
func (p *Pool) compactLocked() {
	if p.mu.dead == 0 || p.mu.dead*2 < len(p.mu.queue) {
		return
	}
	live := make([]*entry, 0, len(p.mu.byID))
	for _, e := range p.mu.queue {
		if !e.gone {
			live = append(live, e)
		}
	}
	p.mu.queue = live
	p.mu.dead = 0
}

// Get returns the pending transaction with id, if any.
func (p *Pool) Get(id quant.Hash) (*quant.Tx, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.mu.byID[id]
	if !ok {
		return nil, false
	}
	return e.tx, true
}

// Has reports whether id is pending.
func (p *Pool) Has(id quant.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.mu.byID[id] // not reading the entry: one cache miss fewer per call (chain.Options.Verified)
	return ok
}

// Len is the number of pending transactions.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.mu.byID)
}

// Bytes is the encoded size of the pending transactions.
func (p *Pool) Bytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.bytes
}

// Free is the room left: how many more transactions the pool takes, and
// how many more encoded bytes. Callers use it to refuse early what cannot
// fit before doing the work of checking it; Add stays the authority.
func (p *Pool) Free() (txs int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.opts.MaxTxs-len(p.mu.byID), 0), max(p.opts.MaxBytes-p.mu.bytes, 0)
}
