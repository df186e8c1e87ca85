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
	b, err := client.New(addr, f.hc).SubmitBatchBinaryRefused(ctx, f.chain, txs)
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
// the batch (ErrUnavailable). The answer lists every transaction in order,
// or (api.ResultsRefused, as Forward asks) only the refused ones, each
// with its index.
func batchErr(b api.Batch, n int) error {
	if b.Accepted+b.Rejected != n || b.Accepted < 0 || b.Rejected < 0 {
		return fmt.Errorf("%w: the leader answered for %d and %d transactions of %d", ErrUnavailable, b.Accepted, b.Rejected, n)
	}
	first, at := -1, -1
	for i, r := range b.Results {
		if r.Error == nil {
			continue
		}
		idx := i
		if r.Index != nil {
			idx = *r.Index
		}
		if idx < 0 || idx >= n {
			return fmt.Errorf("%w: the leader answered for transaction %d of %d", ErrUnavailable, idx, n)
		}
		if first < 0 || idx < first {
			first, at = idx, i
		}
	}
	if first < 0 {
		if b.Rejected != 0 {
			return fmt.Errorf("%w: the leader refused %d transactions and named none", ErrUnavailable, b.Rejected)
		}
		return nil
	}
	r := b.Results[at]
	if r.Error.Code == api.CodeUnavailable {
		return fmt.Errorf("%w: %s", ErrUnavailable, r.Error.Message)
	}
	return quant.Errorf(quant.Code(r.Error.Code), "transaction %d: %s", first, r.Error.Message)
}
