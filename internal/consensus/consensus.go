// Package consensus is the contract between a chain and its consensus
// engine: the engine decides who may add the next quant (its seal) and how
// much weight a quant adds to its branch (fork choice). Engines live in
// subpackages (pow, ...); consensustest is the conformance suite every
// engine passes.
//
// The chain calls an engine; an engine never calls the chain except through
// ChainReader, so the core does not change when an engine is added.
package consensus

import (
	"context"
	"math/big"

	"github.com/qbc-chain/qbc/internal/quant"
)

// ChainReader lets an engine read the headers of the branch it works on
// (for a difficulty rule, a signer schedule). It is read-only.
type ChainReader interface {
	Header(hash quant.Hash) (*quant.Header, error)
}

// Engine is one chain's consensus engine, built from the chain's rules.
// Methods other than Seal do no I/O beyond ChainReader and return at once.
type Engine interface {
	// Name is the engine's name as the rules write it ("pow").
	Name() string
	// Prepare fills the parts of h's seal that the rules fix for a child of
	// parent (for pow: the difficulty), before Seal.
	Prepare(chain ChainReader, parent, h *quant.Header) error
	// Seal completes h's seal (for pow: searches for a nonce). It blocks
	// until done or ctx ends, and then returns ctx's error.
	Seal(ctx context.Context, h *quant.Header) error
	// VerifySeal checks h's seal as a child of parent. It returns a
	// *quant.RuleError with CodeBadSeal for a bad seal.
	VerifySeal(chain ChainReader, parent, h *quant.Header) error
	// Weight is what h adds to its branch's accumulated weight; the branch
	// with the most accumulated weight is the chain. h's seal has been
	// verified.
	Weight(h *quant.Header) *big.Int
}

// Factory builds an engine from a chain's rules, checking the engine's
// parameters and naming the bad one.
type Factory func(rules *quant.Rules) (Engine, error)
