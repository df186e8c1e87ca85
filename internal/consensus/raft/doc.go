// Package raft is QBC's Raft engine: the seal and the rules of a chain
// whose quants are ordered by a Raft cluster of member nodes. The cluster
// itself (hashicorp/raft, its log, transport and snapshots) runs in package
// raftchain; this package only checks and makes seals, and does no I/O.
//
// The bang lists the members (an id and an Ed25519 public key each) and how
// the leader cuts quants (max_quant_txs, max_quant_bytes,
// max_quant_interval_ms). The leader seals each quant with the Raft term and
// log index of the entry that carries it and signs the header; every member
// checks the seal (VerifySeal) before the quant joins its chain.
//
// # Seal
//
// 82 bytes, big-endian:
//
//	term   u64  the Raft term of the log entry carrying the quant
//	index  u64  the Raft log index of that entry
//	member u16  the signer's index in engine_params.members
//	sig    [64] Ed25519 (ZIP-215) over SigningHash(header)
//
// SigningHash is Sum("qbc/raft-seal/v1", header encoded with its seal
// holding only the 18-byte position: term, index, member). As in poa, the
// signer signs the header with its seal cut to what precedes the
// signature, under a domain tag; here the signed message is that
// domain-separated hash. Package raftchain's FSM applies a quant only from
// the log entry at the term and index its seal names, which binds each
// quant to one place in the Raft log.
//
// # Rules
//
// checkSigner: the seal is signed by a listed member. checkOrder: term and
// index move forward from the parent's (the log's order). Weight is 1 per
// quant: a Raft chain has no forks, so fork choice never has to choose, and
// a committed quant is final.
//
// Membership of the Raft cluster (who votes now) may change at run time,
// but only among the members the bang lists: a member outside the list
// cannot seal. Changing the list itself is a fork (a new chain).
package raft
