package store

import (
	"errors"

	"github.com/qbc-chain/qbc/internal/chain"
)

// Errors returned by the store, wrapped with context; check them with
// errors.Is.
var (
	// ErrNotFound: the quant, transaction, height or tip is not stored. It
	// is chain.ErrNotFound (the same value), which the chain's Reader
	// contract names; callers outside store check chain.ErrNotFound.
	ErrNotFound = chain.ErrNotFound
	// ErrBadLink: Connect was given a quant that is not a child of the tip,
	// or Reorg lists that do not join up with the main chain and each other.
	ErrBadLink = errors.New("store: does not link to the main chain")
	// ErrInvalid: an entry is malformed (nil quant or work, a meta height
	// that is not its header's, a transaction count that is not its body's,
	// a bang that is not the chain's).
	ErrInvalid = errors.New("store: invalid entry")
	// ErrCorrupt: a stored value does not decode. The database is damaged
	// or was written by something else.
	ErrCorrupt = errors.New("store: corrupt value")
	// ErrReadOnly: a write on a DB opened with Options.ReadOnly, or a
	// read-only Open of a database of an older format version, which only
	// a writable Open upgrades.
	ErrReadOnly = errors.New("store: read-only")
	// ErrLost: the store holds less of a chain than it committed (its
	// committed-tip record says more): a damaged write-ahead log lost
	// commits. *LostError names the chain and what was lost; the chain
	// refuses Connect and Reorg.
	ErrLost = errors.New("store: committed quants lost")
	// ErrDeleted: a write through a handle on a chain that DeleteChain
	// removed since the handle was made.
	ErrDeleted = errors.New("store: chain deleted")
	// ErrClosed: the DB was closed.
	ErrClosed = errors.New("store: closed")
)
