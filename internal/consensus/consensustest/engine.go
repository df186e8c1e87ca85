package consensustest

import (
	"context"
	"math/big"

	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Name is the test engine's name, as rules write it.
const Name = "test"

// SealDomain is the tag of the test engine's seal hash.
const SealDomain = "qbc/test-seal/v1"

// Engine is the smallest engine that passes Run: Nakamoto-style (any node
// seals, FinalityDepth, never Ordered), its seal the hash of the header's
// other fields under SealDomain, each quant of weight 1. It secures nothing
// (anyone can compute a seal); it shows what an engine must provide, and
// that a new engine plugs into a chain and a node through Factory alone.
type Engine struct{}

var _ consensus.Engine = (*Engine)(nil)

// NewEngine returns a test engine.
func NewEngine() *Engine { return &Engine{} }

// Factory is the test engine's consensus.Factory: it accepts rules that
// name the engine and carry no engine parameters.
func Factory(rules *quant.Rules) (consensus.Engine, error) {
	if rules.Engine != Name {
		return nil, quant.Errorf(quant.CodeBadRules, "engine: %q is not %q", rules.Engine, Name)
	}
	if p := string(rules.EngineParams); p != "" && p != "null" && p != "{}" {
		return nil, quant.Errorf(quant.CodeBadRules, "engine_params: the %s engine takes none", Name)
	}
	return NewEngine(), nil
}

// Name implements consensus.Engine.
func (*Engine) Name() string { return Name }

// Prepare clears h's seal: the engine fixes no seal fields.
func (*Engine) Prepare(_ consensus.ChainReader, _, h *quant.Header) error {
	h.Seal = nil
	return nil
}

// Seal sets h's seal to SealOf(h). It returns ctx's error if ctx has ended.
func (*Engine) Seal(ctx context.Context, h *quant.Header) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := SealOf(h)
	h.Seal = s[:]
	return nil
}

// VerifySeal requires h's seal to be SealOf(h). It stops a header from
// being changed after it was sealed (as far as this engine can: anyone can
// seal).
func (*Engine) VerifySeal(_ consensus.ChainReader, _, h *quant.Header) error {
	want := SealOf(h)
	if string(h.Seal) != string(want[:]) {
		return quant.Errorf(quant.CodeBadSeal, "test seal is not the hash of the header")
	}
	return nil
}

// Weight is 1: the longest branch is the chain.
func (*Engine) Weight(*quant.Header) *big.Int { return big.NewInt(1) }

// SealOf is the test seal of h: the hash, under SealDomain, of h's
// encoding with an empty seal. It does not change h.
func SealOf(h *quant.Header) quant.Hash {
	c := *h
	c.Seal = nil
	return quant.Sum(SealDomain, c.Encode())
}
