package chain

import (
	"sync"

	"github.com/qbc-chain/qbc/internal/quant"
)

// checkedGen is how many transaction ids each of checkedIDs' two
// generations holds: far more than a node admits between its API's check
// of a transaction and a raft leader's check of it as it queues it (well
// under a millisecond apart), at a few hundred KiB.
const checkedGen = 4096

// checkedIDs remembers the ids of the last transactions that passed the
// checks of CheckTx and CheckTxs that depend only on the transaction and
// the chain's rules: its chain, size, writer and key rules, signature, zk
// proof and payload. An id is the hash of the transaction's whole encoding,
// and a chain's rules do not change, so those checks would pass again. A
// node checks a transaction at its API and, when it leads a raft chain,
// again as the replica queues it: the second check need then only look at
// what can change (the time, whether it is committed, the key's lock).
// Two generations of at most checkedGen ids bound it: when the newer is
// full, the older is dropped.
type checkedIDs struct {
	mu       sync.Mutex
	cur, old map[quant.Hash]struct{}
}

// which reports, for each of ids, whether it is remembered; nil when none
// is.
func (s *checkedIDs) which(ids []quant.Hash) []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var known []bool
	for i, id := range ids {
		_, ok := s.cur[id]
		if !ok {
			_, ok = s.old[id]
		}
		if ok {
			if known == nil {
				known = make([]bool, len(ids))
			}
			known[i] = true
		}
	}
	return known
}

// has reports whether id is remembered.
func (s *checkedIDs) has(id quant.Hash) bool {
	return s.which([]quant.Hash{id}) != nil
}

// add remembers id.
func (s *checkedIDs) add(id quant.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) >= checkedGen {
		s.old, s.cur = s.cur, nil
	}
	if s.cur == nil {
		s.cur = make(map[quant.Hash]struct{}, checkedGen)
	}
	s.cur[id] = struct{}{}
}

// headerCacheGen is how many headers each of headerCache's two
// generations holds: a few times the median time past's span, for the
// tips of a few branches.
const headerCacheGen = 64

// headerCache keeps headers by hash, in two generations of at most
// headerCacheGen: when the newer is full, the older is dropped. The
// headers it returns are shared: callers must not change them.
type headerCache struct {
	mu       sync.Mutex
	cur, old map[quant.Hash]*quant.Header
}

// get returns the header kept under h, or nil.
func (c *headerCache) get(h quant.Hash) *quant.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hd, ok := c.cur[h]; ok {
		return hd
	}
	return c.old[h]
}

// add keeps hd under h.
func (c *headerCache) add(h quant.Hash, hd *quant.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= headerCacheGen {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[quant.Hash]*quant.Header, headerCacheGen)
	}
	c.cur[h] = hd
}
