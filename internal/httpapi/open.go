package httpapi

import (
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// seedChainRoutes serves the seed's /inject and /json-chain for every
// followed chain: POST /v1/chains/{chain}/inject takes the same bodies as
// /inject and stamps the record with that chain's id; GET
// /v1/chains/{chain}/json-chain streams that chain in the seed's shape.
func (s *Server) seedChainRoutes() {
	s.mux.HandleFunc("POST /v1/chains/{chain}/inject", s.scoped(s.inject))
	s.mux.HandleFunc("GET /v1/chains/{chain}/json-chain", s.scoped(s.jsonChain))
}

// txFromJSON converts a transaction sent as JSON to POST /v1/txs. An open
// transaction (unsigned, not in raw form, without an id to check) that
// leaves out its chain, time or nonce gets them as /inject gives them, so
// that two equal readings sent without either are not one duplicate.
func (s *Server) txFromJSON(r *http.Request, t *api.Tx) (*quant.Tx, error) {
	tx, err := t.ToTx()
	if err != nil {
		return nil, err
	}
	if t.Raw == "" && t.ID == nil && !tx.Signed() {
		s.stampOpen(r, tx)
	}
	return tx, nil
}
