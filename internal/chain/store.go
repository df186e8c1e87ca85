package chain

import (
	"errors"
	"math/big"

	"github.com/qbc-chain/qbc/internal/quant"
)

// ErrNotFound is returned (wrapped) by a Reader for a quant, transaction,
// height or tip it does not hold; check it with errors.Is.
var ErrNotFound = errors.New("chain: not found")

// Meta is what a chain keeps beside each quant.
type Meta struct {
	Height uint64
	// Work is the cumulative weight of the branch ending at this quant, for
	// fork choice. A store keeps a copy; a returned Work is the caller's.
	Work *big.Int
	// Txs is the number of transactions on the branch ending at this quant.
	Txs uint64
}

// Location is where a committed transaction sits on the main chain.
type Location struct {
	Height uint64 // the quant's height
	Index  uint32 // the transaction's index in the quant
}

// Version is one write of a record key on the main chain: where it is,
// who wrote it, and the lock in force after it (docs/records.md).
type Version struct {
	Key    string
	Height uint64
	Index  uint32
	TxID   quant.Hash
	Time   int64  // the transaction's time, Unix ms
	Signer []byte // the writer's public key; nil if unsigned
	// Lock is the lock in force after this write; nil for none.
	Lock *quant.Lock
}

// Location is where the version's transaction sits.
func (v *Version) Location() Location { return Location{Height: v.Height, Index: v.Index} }

// LastLocation is the location after every other: a bound that takes in
// the whole main chain.
var LastLocation = Location{Height: ^uint64(0), Index: ^uint32(0)}

// Entry is a quant with its meta, as the chain commits it.
type Entry struct {
	Quant *quant.Quant
	Meta  Meta
	// IDs, if set, are the ids of Quant's transactions, in order, as
	// quant.Tx.ID computes them (the chain has them once it has validated
	// the quant); otherwise the store computes them.
	IDs []quant.Hash
	// Records are the versions its keyed transactions make, in order: set
	// by the chain, which checked their locks, for a quant that joins the
	// main chain (Connect, Reorg); a store indexes them as given.
	Records []Version
}

// Reader is the read side of a chain's storage: every quant it was given
// (main chain and side branches), the main chain's height index and tip,
// and the index of committed transactions. Lookups of what is not held
// return an error wrapping ErrNotFound.
type Reader interface {
	// Bang returns the chain's bang: at height 0, or a fork's at its fork
	// point's height.
	Bang() (*quant.Quant, error)
	// Tip returns the hash and meta of the main chain's last quant.
	Tip() (quant.Hash, Meta, error)
	// Header, Meta and Quant return a stored quant's parts, on the main
	// chain or not. What they return belongs to the caller.
	Header(h quant.Hash) (*quant.Header, error)
	Meta(h quant.Hash) (Meta, error)
	Quant(h quant.Hash) (*quant.Quant, error)
	// Has reports whether the quant h is stored, on the main chain or not.
	Has(h quant.Hash) (bool, error)
	// HashAt returns the hash of the main chain's quant at height.
	HashAt(height uint64) (quant.Hash, error)
	// HasTx reports whether a transaction is committed on the main chain.
	HasTx(id quant.Hash) (bool, error)
	// TxLocation returns where a committed transaction sits.
	TxLocation(id quant.Hash) (Location, error)
	// RecordAt returns the latest version of key on the main chain at or
	// before at (LastLocation: the newest).
	RecordAt(key string, at Location) (Version, error)
	// History returns up to limit versions of key on the main chain,
	// oldest first, from the first after after (nil: from the first).
	History(key string, after *Location, limit int) ([]Version, error)
	// Keys returns up to limit record keys that start with prefix, in
	// byte order, from the first after after ("": from the first).
	Keys(prefix, after string, limit int) ([]string, error)
}

// Writer is the write side of a chain's storage. Connect and Reorg are
// durable when they return; Save is durable at the next Connect or Reorg.
// None of them checks consensus rules: the chain does, before it writes.
type Writer interface {
	// Connect stores a child of the tip and makes it the tip.
	Connect(e Entry) error
	// Save stores a quant off the main chain (a side branch).
	Save(e Entry) error
	// Reorg takes disconnect (tip first) off the main chain and puts
	// connect (oldest first) on it, in one commit.
	Reorg(disconnect []quant.Hash, connect []Entry) error
}

// Store is what a chain needs of durable storage: *store.Chain in a node,
// an in-memory one in tests.
type Store interface {
	Reader
	Writer
}
