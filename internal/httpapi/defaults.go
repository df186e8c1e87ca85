package httpapi

import (
	"time"

	"github.com/qbc-chain/qbc/internal/engines"
	"github.com/qbc-chain/qbc/internal/quant"
)

// newRules reads the rules of a chain to create, where only "name" is
// needed: what they leave out comes from the node's default chain's rules
// and the chosen engine's defaults, and "created" is now (quant.FillRules).
func (s *Server) newRules(b []byte) (quant.Rules, error) {
	def, err := quant.DecodeRules(s.cfg.Chains.Default().Chain.Bang().Rules)
	if err != nil {
		return quant.Rules{}, err
	}
	return quant.FillRules(b, def, engines.DefaultParams, time.Now().UnixMilli())
}
