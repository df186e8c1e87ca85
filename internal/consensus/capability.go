package consensus

import (
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// The optional capabilities below are interfaces an Engine may also
// implement; the chain asks for them with a type assertion, and
// consensustest checks each one an engine declares. An engine that
// implements none of them is a Nakamoto-style engine that any node may
// seal with (pow).

// Finality says when a quant of a chain is final.
type Finality string

const (
	// FinalityDepth: the deeper a quant, the surer (pow, poa): the chain
	// may reorganize, so a client waits for confirmations.
	FinalityDepth Finality = "depth"
	// FinalityFinal: a committed quant is final (raft, bft): no reorgs.
	FinalityFinal Finality = "final"
)

// Finalizer is an engine whose finality is not FinalityDepth.
type Finalizer interface {
	Finality() Finality
}

// Sealer is an engine that names who may seal (poa): CanSeal reports
// whether this node's key is one of them. Without it, any node may.
type Sealer interface {
	CanSeal() bool
}

// TurnTaker is an engine whose sealers take turns (poa's recents rule):
// MaySeal reports whether this node may seal a child of parent now.
type TurnTaker interface {
	MaySeal(chain ChainReader, parent *quant.Header) bool
}

// Ordered is an engine whose quants are ordered by a replicated log
// among listed members (raft, bft) rather than made by leaps: no node
// leaps, members run a replica (internal/replica), others observe by
// peer sync. Ordered engines are FinalityFinal.
type Ordered interface {
	Finalizer
	// Member reports whether this node's key is one of the members.
	Member() bool
}

// Nonces is an engine whose seal carries a nonce that the seed's JSON
// shape shows (pow).
type Nonces interface {
	Nonce(h *quant.Header) uint64
}

// Heartbeat is an engine whose rules may ask producers for a quant at
// least every Heartbeat() even when no transaction waits (pow, poa with
// heartbeat_ms). A producer with nothing to include waits for a
// transaction, or until the tip is that old; 0 (or an engine without
// Heartbeat): it waits for a transaction however long that takes.
type Heartbeat interface {
	Heartbeat() time.Duration
}
