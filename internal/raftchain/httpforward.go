package raftchain

import (
	"context"
	"fmt"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// httpForwarder is OpenReplica's Forwarder: it posts the transactions as a
// binary batch to POST /v1/chains/{id}/txs on the leader's node, whose
// replica proposes them, and waits for its answer.
type httpForwarder struct {
	dir   *directory
	chain quant.Hash
	hc    *http.Client
}

var _ Forwarder = (*httpForwarder)(nil)

// Forward implements Forwarder. A leader's node that cannot be found,
// reached, or that answers it is unavailable or overloaded is
// ErrUnavailable; a refusal keeps its code.
func (f *httpForwarder) Forward(ctx context.Context, leader string, txs []*quant.Tx) error {
	addr, err := f.dir.httpAddr(leader)
	if err != nil {
		return err
	}
	b, err := client.New(addr, f.hc).SubmitBatchBinary(ctx, f.chain, txs)
	switch {
	case err == nil:
		return batchErr(b, len(txs))
	case quant.CodeOf(err) != "":
		return err // the leader's node refused the batch
	}
	// client.ErrUnavailable, or ctx ended: Submit tries again while ctx
	// lasts.
	return fmt.Errorf("%w: leader %s: %w", ErrUnavailable, leader, err)
}

// batchErr is the leader node's answer to a forwarded batch of n
// transactions as one error: the first transaction refused, with its code
// (api.CodeUnavailable: ErrUnavailable), or an answer that does not match
// the batch (ErrUnavailable).
func batchErr(b api.Batch, n int) error {
	if len(b.Results) != n {
		return fmt.Errorf("%w: the leader answered %d results for %d transactions", ErrUnavailable, len(b.Results), n)
	}
	for i, r := range b.Results {
		if r.Error == nil {
			continue
		}
		if r.Error.Code == api.CodeUnavailable {
			return fmt.Errorf("%w: %s", ErrUnavailable, r.Error.Message)
		}
		return quant.Errorf(quant.Code(r.Error.Code), "transaction %d: %s", i, r.Error.Message)
	}
	return nil
}
