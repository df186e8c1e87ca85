// Package chain is one QBC chain: it checks every quant before it is stored
// (the same rules for quants made here and quants received from peers),
// keeps the tip, admits transactions against the chain's rules, and builds
// templates for the next leap.
//
// Each consensus or validation rule is a named function whose comment says
// what it prevents; every refusal is a *quant.RuleError with a code. The
// package does no network I/O and leaves no goroutine running (a quant's
// signatures are verified on all cores, joined before Add returns); it reads and commits
// through the Store interface (the store package on Pebble in a node), and
// takes the time from a clock it is given.
package chain
