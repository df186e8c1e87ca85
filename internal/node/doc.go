// Package node is the composition root of a running QBC node: it opens the
// store, loads or creates the default chain, and wires the chain, the
// transaction pool, the consensus engine, the event bus, metrics and the
// HTTP API together. Run serves until its context ends; Close releases
// what New opened.
//
// The node owns the goroutines and the I/O; the packages it wires (chain,
// quant, mempool, the engines) hold the rules.
package node
