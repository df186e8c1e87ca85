// Package chain is one QBC chain: it checks every quant before it is stored
// (the same rules for quants made here and quants received from peers),
// keeps the tip, chooses among branches by accumulated weight, admits
// transactions against the chain's rules, and builds templates for the next
// leap.
//
// A quant made here is checked once: Template checks each transaction as
// it takes it, against the tip's state, and Add of that same quant, only
// sealed since, on the same unmoved tip, checks its header and seal but
// not its body again (builtQuant in template.go says exactly when).
//
// # Rules
//
// Each consensus or validation rule is a small named function whose comment
// says what it prevents (rules.go for quants, admission.go for
// transactions, reorg.go for what a branch may carry, lineage.go for a
// fork's claim on its parent's history). Every refusal is a
// *quant.RuleError with one code per rule: callers and tests compare codes,
// never messages. Seals and weights are the engine's (internal/consensus);
// the chain asks for an engine's optional capabilities by type assertion.
//
// # Storage
//
// The chain owns the types of what it stores and the interfaces it stores
// them through, in store.go: Meta (a quant's height, accumulated weight
// and transaction count), Entry (a quant with its meta), Location (where a
// committed transaction sits) and ErrNotFound. Reader is the read side
// (Bang, Tip, Header, Meta, Quant, Has, HashAt, HasTx, TxLocation), Writer
// the write side (Connect, Save, Reorg), and Store both; VerifyStored
// reads a Stored (a Reader that can also walk its main chain and look up
// many transactions' locations at once). The store
// package implements them on Pebble and imports this package for the
// types; this package never imports store. The package's unit tests run
// on an in-memory Store (memstore_test.go), and TestOnPebble on the real
// one.
//
// # I/O
//
// The package does no network or disk I/O of its own and leaves no
// goroutine running (a quant's signatures are verified on all cores,
// joined before Add returns; VerifyStored's pipeline runs on all cores,
// joined before it returns); it reads and commits through its Store, and
// takes the time from a clock it is given.
package chain
