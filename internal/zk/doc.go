// Package zk holds QBC's zero-knowledge proofs: three Groth16 circuits on
// BN254 written with ConsenSys gnark (membership in a group, knowledge of a
// secret, a hidden value in a range), their keys (single-party setup for
// development, gnark's multi-party phase-2 setup for production), bounded
// decoders for keys and proofs, Prove and Verify, and the MiMC helpers and
// sparse Merkle tree that compute, outside a circuit, the commitments,
// nullifiers and group roots the circuits check.
//
// There is no cryptography of our own here: the hash is gnark's standard
// MiMC (std/hash/mimc in the circuit, gnark-crypto's bn254 fr/mimc outside),
// the Merkle path check is gnark's std/accumulator/merkle, the proof system
// gnark's backend/groth16. This package is circuits, keys, wiring and checks.
//
// Every circuit has a public input Bind, a field element the caller derives
// from what the proof authorizes (a transaction's signing bytes without the
// proof, or a node's read challenge: BindOf). The circuit squares it, so the
// verifying key commits to it and a proof made for one transaction fails
// for any other.
//
// Field elements cross this package's API as Field, 32 bytes big-endian,
// always canonical (below the BN254 scalar field's modulus r); decoders
// refuse non-canonical bytes, so one element has one encoding (a nullifier
// cannot be replayed under a second spelling).
//
// Compiled constraint systems are cached in-process per (circuit, depth):
// compiling is deterministic and slow, and the cache is a memo of a pure
// function, not state (see compiledCache).
//
// Nothing here does I/O beyond the io.Reader/io.Writer a caller passes, and
// nothing starts goroutines that outlive a call (gnark's prover and
// verifier use all cores inside a call).
package zk
