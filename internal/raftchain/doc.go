// Package raftchain runs one QBC chain under Raft on a node: a Replica
// wraps a hashicorp/raft node (TCP transport, bbolt log and stable store,
// file snapshots, all in one directory) whose state machine is the chain.
// The chain's engine is internal/consensus/raft, which checks the seals.
//
// # On a node
//
// A node knows no engine by name: it runs the chains it is a member of
// through the contract of internal/replica, and OpenReplica is raftchain's
// replica.Open, which the node calls for a raft chain it is a member of.
// It wraps a Replica with what a node needs around it:
//
//   - its directory (replica.Config.Dir): Raft's state and the file
//     raft-addr, the address the transport bound first (Config.Bind or
//     the next free port, else Config.Host on a port the system picked),
//     bound again at every restart because the cluster's configuration
//     names it;
//   - Run, the membership loop: it finds the other members' nodes among
//     the node's live peers (replica.Directory, by the member's key in the
//     bang), asks each for its Raft address (GET /v1/chains/{id}/stats,
//     with package client), bootstraps the cluster on the first listed
//     member once a majority is reachable, and on the leader adds the
//     listed members that are not voters yet;
//   - forwarding (httpForwarder): a follower's Submit goes to the leader's
//     node as one binary batch (client.SubmitBatchBinary on POST
//     /v1/chains/{id}/txs), where that node's replica proposes it;
//   - Submit under the caller's context, bounded on top of it, whose
//     errors that say nothing about the transactions (no leader, the
//     leader moved, busy or unreachable, the deadline) wrap
//     replica.ErrUnavailable; Status as the chain's stats show it.
//
// The node keeps what is its own: the chain's store, metrics and events
// (replica.Config.OnCommit), and one answer per transaction (one already
// in the store is committed whatever Submit said).
//
// # Data path
//
// Submit on any replica → on a follower, Forwarder.Forward to the leader →
// Propose on the leader: chain.CheckTxs (all or none), queued → the leader
// loop cuts a quant at once when it has none in flight, else when
// max_quant_txs or max_quant_bytes (the bang's engine parameters) is
// reached or the oldest queued transaction has waited
// max_quant_interval_ms → chain.TemplateOn the newest quant in flight (or
// the tip), seal at (term, next log index), raft.Apply of the encoded
// quant → the FSM on every member decodes the entry and adds the quant
// with chain.Add (every rule, the same as for any quant) → Propose
// returns, then Submit on the follower once its own FSM has applied it
// too. The leader has up to Config.MaxInFlight quants in flight (default
// one); what arrives meanwhile makes the next one (group commit). When a
// quant in flight fails, those after it fail too (they were built on it):
// their transactions are cut again once all are back.
//
// # Log entries
//
// One byte of version (1), one of kind (1: quant), then the quant's
// canonical encoding (DecodeEntry). The quant's seal names the term and
// index of the entry; the FSM refuses an entry whose seal names another
// position (checkPosition), so every quant has exactly one place in the
// log. The leader knows the index an entry will take because everything
// it appends goes through one lock (applyMu): quants, the barrier it runs
// when it takes office, membership changes. If it guesses wrong anyway,
// every member refuses the entry alike and the leader seals again.
//
// # Determinism
//
// Every member must decide alike about every entry. chain.Add's one rule
// that reads the local clock (a quant no more than max_time_drift_ms in
// the future) sees a clock that is never earlier than the newest quant
// applied or being applied (see clock), so it depends on the log alone.
// A failure that is not a rule (storage) halts the replica (ErrHalted):
// its Raft node shuts down rather than let its chain diverge; a restart
// replays the log. The chain is durable on its own, so after a restart
// Raft replays entries the chain already holds: an entry at or before the
// log position of the chain's tip is answered from the chain.
//
// # Snapshots
//
// A snapshot is a marker: chain id, height and tip hash (82 bytes). The
// chain's quants never change once committed (no forks, no reorgs), so
// the store already holds everything a snapshot would; taking one costs
// nothing however long the chain. When Raft sends a snapshot to a member
// that is too far behind for the log (a new member, say), the snapshot
// store's Open expands the marker into a full stream: the same header,
// then every quant after the bang (from height 1, or on a fork from its
// fork point's height plus one) to the tip, each a u32 length and its
// canonical encoding, read from the store. The member keeps the stream and
// restores from it: quants it has are checked against it, the others are
// validated and added with chain.Add. Raft then resumes the log after the
// snapshot's index.
//
// # Forwarding
//
// Followers hand Submit to the leader through a Forwarder. Local is the
// in-process one the tests use (a direct call of the leader's Propose);
// OpenReplica's goes over the HTTP API to the leader's node (the leader's
// member id names its key in the bang, hence its peer). Submit tries
// again, with backoff and at each leader change, while the error says
// the leader moved (ErrNotLeader, ErrNoLeader, ErrUnavailable, ErrBusy).
// A transaction already committed counts as done, so a retry after an
// unclear failure (the leader died after the commit) neither fails nor
// commits twice.
//
// # Membership
//
// The bang lists every member that may ever vote or seal. Bootstrap sets
// the first voters; AddVoter and RemoveServer change them later, only
// among the listed members. Listing another member is a fork.
//
// # Security
//
// Raft's TCP transport is not authenticated: run it on a private network.
// A forged Raft message can disturb the cluster's liveness but cannot put
// a quant on the chain: every member checks every quant's seal (a listed
// member's signature) and every rule before it joins the chain.
package raftchain
