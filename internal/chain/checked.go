package chain

import (
	"sync"

	"github.com/qbc-chain/qbc/internal/quant"
)

// checkedGen is how many transaction ids each generation of Chain.checked
// holds: far more than a node admits between its API's check of a
// transaction and a raft leader's check of it as it queues it (well under
// a millisecond apart), at a few hundred KiB.
//
// Chain.checked remembers the ids of the last transactions that passed
// the checks of CheckTx and CheckTxs that depend only on the transaction
// and the chain's rules: its chain, size, writer and key rules, signature,
// zk proof and payload. An id is the hash of the transaction's whole
// encoding, and a chain's rules do not change, so those checks would pass
// again. A node checks a transaction at its API and, when it leads a raft
// chain, again as the replica queues it: the second check need then only
// look at what can change (the time, whether it is committed, the key's
// lock).
const checkedGen = 4096

// headerCacheGen is how many headers each generation of Chain.ancestors
// holds: a few times the median time past's span, for the tips of a few
// branches.
const headerCacheGen = 64

// recent keeps the values last added under their hashes, in two
// generations of at most limit each: when the newer is full, the older is
// dropped. It suits what never changes under a hash (a header, the verdict
// of checks that depend only on what the hash names). Values are shared:
// callers must not change them.
type recent[V any] struct {
	limit    int
	mu       sync.Mutex
	cur, old map[quant.Hash]V
}

func newRecent[V any](limit int) recent[V] { return recent[V]{limit: limit} }

// get returns the value kept under h.
func (r *recent[V]) get(h quant.Hash) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.getLocked(h)
}

func (r *recent[V]) getLocked(h quant.Hash) (V, bool) {
	if v, ok := r.cur[h]; ok {
		return v, true
	}
	v, ok := r.old[h]
	return v, ok
}

// has reports, for each of hs, whether a value is kept under it.
func (r *recent[V]) has(hs []quant.Hash) []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]bool, len(hs))
	for i, h := range hs {
		_, out[i] = r.getLocked(h)
	}
	return out
}

// add keeps v under h.
func (r *recent[V]) add(h quant.Hash, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cur) >= r.limit {
		r.old, r.cur = r.cur, nil
	}
	if r.cur == nil {
		r.cur = make(map[quant.Hash]V, r.limit)
	}
	r.cur[h] = v
}
