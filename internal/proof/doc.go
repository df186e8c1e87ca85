// Package proof is the proof a client checks offline that a transaction is
// on a chain: the transaction's canonical encoding, its Merkle path to the
// tx_root of the quant that holds it, that quant's header, and the headers
// of the quants after it up to one the client trusts. Verify checks all of
// it against one quant hash the client trusts, with no node and no store:
//
//   - the transaction's id is the hash of its encoding, so the proof cannot
//     show one body and prove another;
//   - the Merkle path leads from that id, at its index, to the header's
//     tx_root, for the header's tx_count (RFC 6962, internal/merkle);
//   - each later header names the one before it (its prev is that header's
//     hash), so the holding quant is an ancestor of each of them;
//   - the trusted hash is the hash of the holding quant or of one of the
//     later headers.
//
// What it does not prove: that the trusted quant is on the chain anyone
// else follows, or that it is final. A trusted hash must come from
// somewhere the client trusts (a node it runs, a tip another node
// reports, a checkpoint published out of band); a proof to a quant the
// server made up proves only that the server made it up. docs/proofs.md
// says more.
//
// A Proof is the same for a transaction read by id and for a keyed
// record's latest value (a record is a transaction), so every read that
// proves inclusion carries one and one verifier checks them all. Its JSON
// form (MarshalJSON) is what the API sends and what `qbc tx verify
// --proof` reads; Decode bounds the input before it allocates.
//
// The package is pure: no I/O, no goroutines, no clock.
package proof
