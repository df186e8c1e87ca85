package loadgen

import (
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// txState is what the tracker knows of one transaction in flight.
type txState struct {
	acked     time.Time // zero until the node acknowledged it
	committed time.Time // zero until seen in a committed quant
}

// tracker follows each transaction from its submission to its commit and
// keeps the commit latencies. It holds only transactions in flight: an
// entry goes once the transaction is both acknowledged and committed, or
// refused. It is safe for concurrent use.
type tracker struct {
	mu struct {
		sync.Mutex
		txs        map[quant.Hash]txState
		latencies  []time.Duration
		sent       int64
		accepted   int64
		committed  int64
		lastAck    time.Time
		lastCommit time.Time
	}
}

func newTracker() *tracker {
	t := &tracker{}
	t.mu.txs = make(map[quant.Hash]txState)
	return t
}

// sent registers transactions about to be submitted for the first time.
func (t *tracker) sent(ids []quant.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		t.mu.txs[id] = txState{}
	}
	t.mu.sent += int64(len(ids))
}

// acked records acknowledgements at time at. A transaction already seen
// committed (its quant's event can beat the answer to its request) gets a
// latency of zero.
func (t *tracker) acked(ids []quant.Hash, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		st, ok := t.mu.txs[id]
		if !ok || !st.acked.IsZero() {
			continue
		}
		t.mu.accepted++
		if !st.committed.IsZero() {
			t.commitLocked(id, 0, st.committed)
			continue
		}
		st.acked = at
		t.mu.txs[id] = st
	}
	if at.After(t.mu.lastAck) {
		t.mu.lastAck = at
	}
}

// dropped forgets transactions that were refused or whose fate is unknown
// (a transport error).
func (t *tracker) dropped(ids []quant.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		if st, ok := t.mu.txs[id]; ok && st.acked.IsZero() {
			delete(t.mu.txs, id)
		}
	}
}

// seen records that the transactions ids are in a quant whose commit the
// bench learnt of at time at, and returns how many of them were its own
// and new. Ids it did not send, or already counted, are ignored.
func (t *tracker) seen(ids []quant.Hash, at time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, id := range ids {
		st, ok := t.mu.txs[id]
		if !ok || !st.committed.IsZero() {
			continue
		}
		n++
		if st.acked.IsZero() {
			st.committed = at
			t.mu.txs[id] = st
			continue
		}
		t.commitLocked(id, max(at.Sub(st.acked), 0), at)
	}
	return n
}

func (t *tracker) commitLocked(id quant.Hash, latency time.Duration, at time.Time) {
	delete(t.mu.txs, id)
	t.mu.committed++
	t.mu.latencies = append(t.mu.latencies, latency)
	if at.After(t.mu.lastCommit) {
		t.mu.lastCommit = at
	}
}

// trackerStats is a snapshot of the counts.
type trackerStats struct {
	sent, accepted, committed int64
	lastAck, lastCommit       time.Time
}

// outstanding is how many acknowledged transactions are not yet seen
// committed.
func (s trackerStats) outstanding() int64 { return s.accepted - s.committed }

func (t *tracker) stats() trackerStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return trackerStats{
		sent: t.mu.sent, accepted: t.mu.accepted, committed: t.mu.committed,
		lastAck: t.mu.lastAck, lastCommit: t.mu.lastCommit,
	}
}

// latencies returns a copy of the commit latencies, in no order.
func (t *tracker) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.mu.latencies...)
}
