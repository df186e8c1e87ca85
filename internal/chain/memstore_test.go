package chain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qbc-chain/qbc/internal/quant"
)

// errBadLink is memStore's refusal of writes that do not join the main
// chain (store.ErrBadLink on disk).
var errBadLink = errors.New("memstore: does not link to the main chain")

// memStore is an in-memory Store (and Stored) for the chain's unit tests:
// the same contract as store.Chain on Pebble (linkage checked, consensus
// rules not; returned values are copies), without a disk. It is not
// durable, and it does not check an entry's shape.
type memStore struct {
	id quant.Hash

	headerReads atomic.Int64 // Header calls

	mu     sync.Mutex
	quants map[quant.Hash]Entry
	main   []quant.Hash // main chain by height, from base
	base   uint64       // the bang's height (a fork's fork point height)
	txs    map[quant.Hash]Location
}

func newMemStore(id quant.Hash) *memStore {
	return &memStore{id: id, quants: map[quant.Hash]Entry{}, txs: map[quant.Hash]Location{}}
}

var _ Stored = (*memStore)(nil)
var _ Store = (*memStore)(nil)

func (m *memStore) ID() quant.Hash { return m.id }

func (m *memStore) Bang() (*quant.Quant, error) { return m.Quant(m.id) }

func (m *memStore) Tip() (quant.Hash, Meta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.main) == 0 {
		return quant.Hash{}, Meta{}, fmt.Errorf("memstore: tip: %w", ErrNotFound)
	}
	h := m.main[len(m.main)-1]
	return h, copyMeta(m.quants[h].Meta), nil
}

func (m *memStore) entry(h quant.Hash) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.quants[h]
	if !ok {
		return Entry{}, fmt.Errorf("memstore: quant %s: %w", h, ErrNotFound)
	}
	return e, nil
}

func (m *memStore) Header(h quant.Hash) (*quant.Header, error) {
	m.headerReads.Add(1)
	e, err := m.entry(h)
	if err != nil {
		return nil, err
	}
	hdr := e.Quant.Header
	return &hdr, nil
}

func (m *memStore) Meta(h quant.Hash) (Meta, error) {
	e, err := m.entry(h)
	if err != nil {
		return Meta{}, err
	}
	return copyMeta(e.Meta), nil
}

func (m *memStore) Quant(h quant.Hash) (*quant.Quant, error) {
	e, err := m.entry(h)
	if err != nil {
		return nil, err
	}
	q := *e.Quant
	q.Txs = append([]*quant.Tx(nil), e.Quant.Txs...)
	return &q, nil
}

func (m *memStore) Has(h quant.Hash) (bool, error) {
	_, err := m.entry(h)
	return err == nil, nil
}

func (m *memStore) HashAt(height uint64) (quant.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if height < m.base || height-m.base >= uint64(len(m.main)) {
		return quant.Hash{}, fmt.Errorf("memstore: height %d: %w", height, ErrNotFound)
	}
	return m.main[height-m.base], nil
}

func (m *memStore) HasTx(id quant.Hash) (bool, error) {
	_, err := m.TxLocation(id)
	return err == nil, nil
}

func (m *memStore) TxLocations(ids []quant.Hash) ([]Location, []error) {
	locs := make([]Location, len(ids))
	var errs []error
	for i, id := range ids {
		loc, err := m.TxLocation(id)
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ids))
			}
			errs[i] = err
		}
		locs[i] = loc
	}
	return locs, errs
}

func (m *memStore) TxLocation(id quant.Hash) (Location, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	loc, ok := m.txs[id]
	if !ok {
		return Location{}, fmt.Errorf("memstore: transaction %s: %w", id, ErrNotFound)
	}
	return loc, nil
}

// Iterate walks the main chain as it is when called.
func (m *memStore) Iterate(ctx context.Context, from uint64, fn func(*quant.Quant) error) error {
	m.mu.Lock()
	main, base := append([]quant.Hash(nil), m.main...), m.base
	m.mu.Unlock()
	for h := max(from, base); h-base < uint64(len(main)); h++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		q, err := m.Quant(main[h-base])
		if err != nil {
			return err
		}
		if err := fn(q); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Save(e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putLocked(e)
	return nil
}

func (m *memStore) Connect(e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	hdr := &e.Quant.Header
	if len(m.main) == 0 {
		if !e.Quant.IsBang() || e.Quant.Hash() != m.id {
			return fmt.Errorf("memstore: connect quant %d to an empty chain: %w", hdr.Height, errBadLink)
		}
		m.base = hdr.Height
	} else if hdr.Prev != m.main[len(m.main)-1] || hdr.Height != m.base+uint64(len(m.main)) {
		return fmt.Errorf("memstore: connect quant %d: not a child of the tip: %w", hdr.Height, errBadLink)
	}
	m.putLocked(e)
	m.indexLocked(e)
	return nil
}

func (m *memStore) Reorg(disconnect []quant.Hash, connect []Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.main)
	if len(disconnect) >= n {
		return fmt.Errorf("memstore: reorg would disconnect the bang: %w", errBadLink)
	}
	for i, h := range disconnect {
		if m.main[n-1-i] != h {
			return fmt.Errorf("memstore: reorg: disconnect[%d] is not on the main chain there: %w", i, errBadLink)
		}
	}
	fork := m.main[n-1-len(disconnect)]
	for i, e := range connect {
		if e.Quant.Header.Prev != fork || e.Quant.Header.Height != m.base+uint64(n-len(disconnect)+i) {
			return fmt.Errorf("memstore: reorg: connect[%d] does not link: %w", i, errBadLink)
		}
		fork = e.Quant.Hash()
	}
	for _, h := range disconnect {
		q := m.quants[h].Quant
		for _, id := range quant.TxIDs(q.Txs) {
			delete(m.txs, id)
		}
	}
	m.main = m.main[:n-len(disconnect)]
	for _, e := range connect {
		m.putLocked(e)
		m.indexLocked(e)
	}
	return nil
}

// putLocked stores e (keeping a copy of its meta).
func (m *memStore) putLocked(e Entry) {
	e.Meta = copyMeta(e.Meta)
	e.IDs = nil
	m.quants[e.Quant.Hash()] = e
}

// indexLocked puts e on the main chain.
func (m *memStore) indexLocked(e Entry) {
	ids := e.IDs
	if len(ids) != len(e.Quant.Txs) {
		ids = quant.TxIDs(e.Quant.Txs)
	}
	m.main = append(m.main, e.Quant.Hash())
	for i, id := range ids {
		m.txs[id] = Location{Height: e.Quant.Header.Height, Index: uint32(i)}
	}
}

func copyMeta(m Meta) Meta {
	if m.Work != nil {
		m.Work = new(big.Int).Set(m.Work)
	}
	return m
}

// versionsLocked returns every version on the main chain, oldest first.
func (m *memStore) versionsLocked() []Version {
	var out []Version
	for _, h := range m.main {
		out = append(out, m.quants[h].Records...)
	}
	return out
}

func before(a, b Location) bool {
	return a.Height < b.Height || (a.Height == b.Height && a.Index < b.Index)
}

func (m *memStore) RecordAt(key string, at Location) (Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var found *Version
	for _, v := range m.versionsLocked() {
		if v.Key == key && !before(at, v.Location()) {
			found = &v
		}
	}
	if found == nil {
		return Version{}, fmt.Errorf("memstore: record %q: %w", key, ErrNotFound)
	}
	return *found, nil
}

func (m *memStore) History(key string, after *Location, limit int) ([]Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Version
	for _, v := range m.versionsLocked() {
		if v.Key == key && (after == nil || before(*after, v.Location())) && len(out) < limit {
			out = append(out, v)
		}
	}
	return out, nil
}

func (m *memStore) Keys(prefix, after string, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := map[string]bool{}
	for _, v := range m.versionsLocked() {
		if strings.HasPrefix(v.Key, prefix) && v.Key > after {
			set[v.Key] = true
		}
	}
	keys := slices.Sorted(maps.Keys(set))
	if len(keys) > limit {
		keys = keys[:limit]
	}
	return keys, nil
}
