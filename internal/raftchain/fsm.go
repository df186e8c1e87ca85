package raftchain

import (
	"bytes"
	"fmt"
	"io"

	hraft "github.com/hashicorp/raft"

	"github.com/qbc-chain/qbc/internal/chain"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
)

// fsm is the Raft state machine of a replica: its chain. Raft calls it on
// one goroutine.
type fsm struct{ r *Replica }

var _ hraft.FSM = fsm{}

// applyResult is what Apply returns for an entry (the leader reads it from
// its ApplyFuture).
type applyResult struct {
	height uint64 // the quant's height, when it joined the chain
	err    error  // why the entry was refused
}

// Apply implements hraft.FSM.
func (f fsm) Apply(l *hraft.Log) any { return f.r.apply(l.Term, l.Index, l.Data) }

// Snapshot implements hraft.FSM: a marker of the chain's tip. It first
// makes every applied quant durable in the store: Raft compacts its log
// up to a snapshot and, at start, replays only the entries after it
// (NoSnapshotRestoreOnStart), so what the marker names must be on disk.
func (f fsm) Snapshot() (hraft.FSMSnapshot, error) {
	if err := f.r.st.Sync(); err != nil {
		return nil, fmt.Errorf("raftchain: snapshot: %w", err)
	}
	head := f.r.chain.Tip()
	return marker{snapHeader{kind: snapKindMarker, chain: f.r.chain.ID(), height: head.Header.Height, tip: head.Hash}}, nil
}

// Restore implements hraft.FSM.
func (f fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.r.restore(rc)
}

// apply adds the quant in the log entry at (term, index) to the chain, if
// every member must: the same checks on every member, on the log alone,
// so that all decide alike. Entries at or before the position of the
// chain's tip were decided before (Raft replays its log from the last
// snapshot when it restarts, onto a chain that is durable): they are
// answered from the chain.
func (r *Replica) apply(term, index uint64, data []byte) applyResult {
	r.nudge(index) // committed: tell the followers now
	if err := r.haltedErr(); err != nil {
		return applyResult{err: err}
	}
	q, err := r.entryQuant(term, index, data)
	if err != nil {
		return r.refuse(index, err)
	}
	head := r.chain.Tip()
	if index <= sealIndex(&head.Header) {
		if h := q.Header.Height; h <= head.Header.Height {
			if at, err := r.st.HashAt(h); err == nil && at == q.Hash() {
				return applyResult{height: h}
			}
		}
		return applyResult{err: errSuperseded}
	}
	if err := checkPosition(&q.Header, term, index); err != nil {
		return r.refuse(index, err)
	}
	if err := r.add(q); err != nil {
		return r.refuse(index, err)
	}
	return applyResult{height: q.Header.Height}
}

// proposal is a quant the leader handed Raft and the entry it made of it.
type proposal struct {
	term, index uint64
	q           *quant.Quant
	data        []byte
}

// entryQuant returns the quant of the entry data at (term, index). On the
// leader that proposed it, that is the quant it sealed, if data holds
// exactly its encoding: not decoded again, and the very quant
// chain.TemplateOn made, which chain.Add then need not check in full (its
// body was checked as it was built). Elsewhere it is decoded from a copy:
// the chain keeps the quant (its tip header), which must not alias Raft's
// buffer.
func (r *Replica) entryQuant(term, index uint64, data []byte) (*quant.Quant, error) {
	if p := r.proposed.Load(); p != nil && p.index <= index {
		r.proposed.CompareAndSwap(p, nil) // applied now or passed over
		if p.index == index && p.term == term && bytes.Equal(p.data, data) {
			return p.q, nil
		}
	}
	return DecodeEntry(bytes.Clone(data))
}

// checkPosition requires the quant's seal to name the log entry that
// carries it. It stops a quant sealed for one place in the log from being
// applied at another (a leader's wrong guess of the next index, a replayed
// entry), so every quant has one place in the log.
func checkPosition(h *quant.Header, term, index uint64) error {
	st, si, err := raftengine.Position(h)
	if err != nil {
		return err
	}
	if st != term || si != index {
		return fmt.Errorf("%w: seal names (term %d, index %d), the entry is at (%d, %d)", errPosition, st, si, term, index)
	}
	return nil
}

// add validates q in full (chain.Add) and commits it. A rule failure is
// returned as it is; any other failure (storage) halts the replica.
func (r *Replica) add(q *quant.Quant) error {
	if err := checkExtendsTip(q, r.chain.Tip()); err != nil {
		return err
	}
	r.clock.raise(q.Header.Time)
	res, err := r.chain.Add(q)
	if err != nil {
		if quant.CodeOf(err) == "" {
			r.halt(fmt.Errorf("quant %d: %w", q.Header.Height, err))
			return fmt.Errorf("%w: %v", ErrHalted, err)
		}
		return err
	}
	var ids []quant.Hash
	if len(res.ConnectedIDs) == 1 { // always: q extends the tip, and only the FSM writes the chain
		ids = res.ConnectedIDs[0]
	} else {
		ids = quant.TxIDs(q.Txs)
	}
	r.committed(q, ids)
	return nil
}

// checkExtendsTip requires q to be the child of the chain's tip. A Raft
// chain has no side branches: it stops a quant built on an older tip from
// being stored beside the chain (chain.Add would keep it on a branch).
func checkExtendsTip(q *quant.Quant, head chain.Tip) error {
	if q.Header.Prev != head.Hash || q.Header.Height != head.Header.Height+1 {
		return quant.Errorf(quant.CodeBadLink, "quant %d does not follow the tip %d %s", q.Header.Height, head.Header.Height, head.Hash)
	}
	return nil
}

func (r *Replica) refuse(index uint64, err error) applyResult {
	r.metrics.refused.Inc()
	r.log.Warn("raft entry refused", "index", index, "err", err)
	return applyResult{err: err}
}

// sealIndex is the log index in h's raft seal (0 for the bang).
func sealIndex(h *quant.Header) uint64 {
	if h.IsBang() {
		return 0
	}
	_, index, err := raftengine.Position(h)
	if err != nil {
		return 0
	}
	return index
}

// restore brings the chain up to a snapshot: nothing to do if the chain
// already holds the snapshot's tip; else the quants of a full stream that
// it lacks are validated and added, and those it holds are checked against
// it.
func (r *Replica) restore(rd io.Reader) error {
	h, err := readSnapHeader(rd)
	if err != nil {
		return err
	}
	if h.chain != r.chain.ID() {
		return fmt.Errorf("%w: it is of chain %s, not %s", ErrBadSnapshot, h.chain, r.chain.ID())
	}
	head := r.chain.Tip()
	if head.Header.Height >= h.height {
		at, err := r.st.HashAt(h.height)
		if err != nil {
			return err
		}
		if at != h.tip {
			return fmt.Errorf("%w: its quant at %d is %s, the chain's %s", ErrBadSnapshot, h.height, h.tip, at)
		}
		return nil
	}
	if h.kind != snapKindFull {
		return fmt.Errorf("%w: it names quant %d but the store ends at %d", ErrBadSnapshot, h.height, head.Header.Height)
	}
	added := 0
	err = readSnapQuants(rd, h, r.chain.Base(), r.chain.Rules().MaxQuantBytes, func(q *quant.Quant) error {
		if q.Header.Height <= head.Header.Height {
			at, err := r.st.HashAt(q.Header.Height)
			if err != nil {
				return err
			}
			if at != q.Hash() {
				return fmt.Errorf("%w: its quant at %d is %s, the chain's %s", ErrBadSnapshot, q.Header.Height, q.Hash(), at)
			}
			return nil
		}
		if err := r.add(q); err != nil {
			return fmt.Errorf("%w: quant %d: %w", ErrBadSnapshot, q.Header.Height, err)
		}
		added++
		return nil
	})
	if err != nil {
		return err
	}
	// Raft counts the snapshot's entries applied once Restore returns,
	// and may drop them from its log: the quants must be durable first.
	if err := r.st.Sync(); err != nil {
		return fmt.Errorf("raftchain: restore: %w", err)
	}
	r.metrics.restores.Inc()
	r.restores.Add(1)
	r.log.Info("restored from a snapshot", "height", h.height, "added", added)
	return nil
}
