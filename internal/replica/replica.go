// Package replica is the contract between a node and the replicated log of
// an ordered consensus engine (raft today, bft later) on one of the
// chain's members.
//
// A node follows every chain as one of two kinds of ledger. On a
// Nakamoto-style chain (pow, poa) the node makes quants itself (leaps),
// gossips them and syncs from peers. On an ordered chain the member nodes
// run a Replica instead: it is the only writer of the chain's store, and
// quants come from its log, never from leaps or peer sync. A node that is
// not a member observes an ordered chain by peer sync.
//
// The node knows no engine by name: an engine whose consensus.Engine is
// consensus.Ordered comes with an Open function, registered by engine name
// (internal/engines), and the node calls it for the chains it is a member
// of.
package replica

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

// ErrUnavailable wraps a Submit error that says nothing about the
// transactions: no leader now, the leader busy or unreachable. The client
// may send them again.
var ErrUnavailable = errors.New("replica: the chain's log is unavailable now")

// Replica is a member's share of an ordered chain.
type Replica interface {
	// Chain is the chain the replica writes; the node reads it.
	Chain() *chain.Chain
	// Submit orders txs into the chain and returns once they are
	// committed, ctx ends, or the log refuses them. Errors that are not
	// about the transactions wrap ErrUnavailable. It may keep txs.
	Submit(ctx context.Context, txs []*quant.Tx) error
	// Run keeps the replica's membership (bootstrap, members joining)
	// until ctx ends. It returns nil then.
	Run(ctx context.Context) error
	// Status is the member's view of the cluster, for the chain's stats.
	Status() *api.RaftStatus
	// Close stops the replica; it is idempotent.
	Close() error
}

// Directory finds the nodes of a chain's members among the node's live
// peers.
type Directory interface {
	// Addr returns the HTTP API address (HOST:PORT) of the live peer whose
	// node key is key.
	Addr(key ed25519.PublicKey) (string, bool)
}

// Config is what a node gives a replica.
type Config struct {
	// Dir is the replica's own directory (its log, snapshots).
	Dir string
	// Store is the chain's store, holding at least its bang. The replica
	// is its only writer.
	Store *store.Chain
	// Key is the node's key; the bang lists it as a member.
	Key ed25519.PrivateKey
	// Host is the node's advertised host: the replica's own listener, if
	// it has one, binds there unless Bind says otherwise, and other members
	// reach it there.
	Host string
	// Bind is where the replica's own listener, if it has one, binds the
	// first time it opens (HOST:PORT; the engine says how it treats a port
	// in use and port 0). Empty: Host, on a port the system picks. Later
	// opens keep the address bound first, which the cluster knows.
	Bind string
	// Peers finds other members' nodes.
	Peers Directory
	// OnCommit is called with each quant the log adds, in order, on the
	// replica's goroutine: it must return quickly and must not change q.
	OnCommit func(q *quant.Quant)
	// Logger and Registerer (labelled with the chain by the node).
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// CommitTimeout and MaxInFlight tune the log: how soon an idle leader
	// tells followers of a commit, and how many quants may be in flight.
	// Zero: the engine's defaults.
	CommitTimeout time.Duration
	MaxInFlight   int
	// SnapshotInterval and SnapshotEntries say how often the log is
	// snapshotted and compacted: a check every SnapshotInterval, a
	// snapshot once SnapshotEntries entries follow the last one. Zero: the
	// engine's defaults.
	SnapshotInterval time.Duration
	SnapshotEntries  uint64
}

// Open opens a replica of an ordered chain on one of its members.
type Open func(Config) (Replica, error)
