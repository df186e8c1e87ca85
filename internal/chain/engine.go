package chain

import (
	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/quant"
)

// EngineOf builds the engine that bang's rules name, so a node can ask
// what it declares (consensus.Ordered, ...) before it opens the chain.
func EngineOf(bang *quant.Quant, engines Engines) (consensus.Engine, error) {
	rules, err := quant.CheckBang(bang)
	if err != nil {
		return nil, err
	}
	return newEngine(rules, engines)
}
