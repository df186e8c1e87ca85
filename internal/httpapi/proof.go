package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

// proofQuery reads the query of a read that can carry a proof:
// ?proof=full asks for the proof a client checks offline, and &to=HASH
// the quant it leads to (zero: the tip).
func proofQuery(r *http.Request) (full bool, to quant.Hash, err error) {
	q := r.URL.Query()
	switch v := q.Get("proof"); v {
	case "":
	case "full":
		full = true
	default:
		return false, to, fmt.Errorf("%w: proof=%q: the one kind of proof is proof=full", ErrBadRequest, v)
	}
	if v := q.Get("to"); v != "" {
		if !full {
			return false, to, fmt.Errorf("%w: to= names where a proof leads, and needs proof=full", ErrBadRequest)
		}
		if to, err = quant.ParseHash(v); err != nil {
			return false, to, fmt.Errorf("%w: to: %v", ErrBadRequest, err)
		}
	}
	return full, to, nil
}

// committed is the status of the committed transaction p, as the
// transaction and record routes answer it; with full, also the offline
// proof leading to the quant to (fullProof).
func (s *Server) committed(c *chain.Chain, p chain.TxProof, full bool, to quant.Hash) (api.TxStatus, error) {
	st := api.TxStatus{
		Status:        "committed",
		Tx:            api.FromTx(p.Tx),
		Height:        p.Height,
		Index:         p.Index,
		Quant:         &p.Quant,
		Confirmations: p.Confirmations,
		Proof:         p.Path,
		TxCount:       p.Header.TxCount,
	}
	if full {
		var err error
		if st.Full, err = fullProof(c, p, to, s.cfg.MaxProofHeaders); err != nil {
			return api.TxStatus{}, err
		}
	}
	return st, nil
}

// fullProof is the offline proof of the committed transaction p, with the
// headers from its quant up to the quant to (the tip when to is zero), at
// most max of them. A read of a keyed record proves its transaction the
// same way.
func fullProof(c *chain.Chain, p chain.TxProof, to quant.Hash, max int) (*proof.Proof, error) {
	atTip := to.IsZero()
	if atTip {
		to = c.Tip().Hash
	}
	hs, err := c.HeaderChain(p.Quant, to, max)
	switch {
	case errors.Is(err, chain.ErrTooLong):
		return nil, errorf(api.CodeProofTooLong, fmt.Sprintf(
			"%s: a proof carries at most %d headers; ask for one to a quant nearer the transaction's (height %d) with to=HASH",
			detail(err, chain.ErrTooLong), max, p.Height))
	case errors.Is(err, chain.ErrNotAncestor) && atTip:
		// A reorganisation took the transaction's quant off the main
		// chain between the reads.
		return nil, fmt.Errorf("%w: the chain moved while the proof was read", ErrRetry)
	case errors.Is(err, chain.ErrNotAncestor):
		return nil, fmt.Errorf("%w: to: quant %s does not descend from quant %s (height %d), which holds the transaction",
			ErrBadRequest, to, p.Quant, p.Height)
	case errors.Is(err, chain.ErrNotFound) && !atTip:
		return nil, fmt.Errorf("%w: to: quant %s is not stored here", ErrNotFound, to)
	case err != nil:
		return nil, err
	}
	return proof.New(p.Tx, p.Index, &p.Header, p.Path, hs), nil
}
