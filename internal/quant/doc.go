// Package quant defines QBC's transactions and quants (blocks), their
// canonical binary encoding, their hashes and the rules a chain's bang
// carries.
//
// Everything that is hashed or signed has exactly one encoding, specified in
// docs/protocol.md. Every decoder here bounds what it reads before it
// allocates, rejects trailing bytes and non-canonical forms, and is fuzzed.
//
// The package does no I/O and knows nothing of HTTP, peers, storage or any
// one consensus engine: a quant's seal is opaque bytes that the chain's engine
// interprets.
package quant
