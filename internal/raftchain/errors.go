package raftchain

import "errors"

// Errors of this package; check them with errors.Is. Submit retries on
// ErrNotLeader, ErrNoLeader, ErrBusy and ErrUnavailable until its context
// ends; Propose and Forwarders return them as they are.
var (
	// ErrNotLeader: the replica is not the chain's leader, or leads but
	// has not yet applied what earlier leaders committed. A transaction
	// refused with it was not committed through this replica (it may have
	// been committed through another).
	ErrNotLeader = errors.New("raftchain: not the leader")
	// ErrNoLeader: no leader is known (an election is under way).
	ErrNoLeader = errors.New("raftchain: no leader")
	// ErrBusy: the leader holds as many pending transactions as it may.
	ErrBusy = errors.New("raftchain: too many transactions pending at the leader")
	// ErrUnavailable: a Forwarder could not reach the leader.
	ErrUnavailable = errors.New("raftchain: leader unavailable")
	// ErrClosed: the replica was closed.
	ErrClosed = errors.New("raftchain: closed")
	// ErrNotMember: a key or a server id is not a member the chain's bang
	// lists.
	ErrNotMember = errors.New("raftchain: not a member of the chain")
	// ErrHalted: the replica could not apply a committed quant (a storage
	// failure) and stopped taking part in the cluster rather than diverge.
	ErrHalted = errors.New("raftchain: halted")
	// ErrBadSnapshot: a snapshot does not decode, is for another chain, or
	// disagrees with the stored chain.
	ErrBadSnapshot = errors.New("raftchain: bad snapshot")

	// errPosition: a quant's seal names another log position than its
	// entry's (the leader predicted the index wrongly; it retries).
	errPosition = errors.New("raftchain: seal position is not the entry's")
	// errNoForwarder: a follower without a Forwarder cannot pass a
	// Submit on.
	errNoForwarder = errors.New("no forwarder to the leader")
	// errSuperseded: a replayed entry that was refused when first applied.
	errSuperseded = errors.New("raftchain: entry was refused when first applied")
)

// retryable reports whether Submit should try err's call again.
func retryable(err error) bool {
	return errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) || errors.Is(err, ErrBusy) || errors.Is(err, ErrUnavailable)
}
