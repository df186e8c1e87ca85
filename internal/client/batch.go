package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// ErrUnavailable wraps what SubmitBatchBinary returns when the node could
// not be reached or answered that it cannot take the batch now (503, 429,
// or an answer that is not the API's): nothing says the transactions are
// at fault, and the caller may send them again.
var ErrUnavailable = errors.New("client: node unavailable or overloaded")

// SubmitBatchBinary sends txs to POST /v1/chains/{chainID}/txs as one
// binary batch (api.BatchMediaType), the cheapest encoding, and returns the
// node's answer: per transaction in order, its id or why it was refused (a
// refused transaction is not an error of the call). It does not keep txs.
//
// A call that fails wraps ErrUnavailable when the node is unreachable,
// unavailable or overloaded (errors.Is(err, ErrUnavailable)); a refusal of
// the whole batch the node sent (a malformed or oversized batch, a chain
// it does not follow) keeps its code: quant.CodeOf(err) returns it, and
// errors.As finds the *StatusError.
func (c *Client) SubmitBatchBinary(ctx context.Context, chainID quant.Hash, txs []*quant.Tx) (api.Batch, error) {
	return c.submitBatchBinary(ctx, "/v1/chains/"+chainID.String()+"/txs", txs)
}

// SubmitBatchBinaryRefused is SubmitBatchBinary, but the node's answer
// lists only the refused transactions, each with its index
// (api.ResultsRefused), with the counts of accepted and refused: for a
// caller that needs no id back.
func (c *Client) SubmitBatchBinaryRefused(ctx context.Context, chainID quant.Hash, txs []*quant.Tx) (api.Batch, error) {
	return c.submitBatchBinary(ctx, "/v1/chains/"+chainID.String()+"/txs?results="+api.ResultsRefused, txs)
}

func (c *Client) submitBatchBinary(ctx context.Context, path string, txs []*quant.Tx) (api.Batch, error) {
	var out api.Batch
	err := c.do(ctx, http.MethodPost, path, api.BatchMediaType, api.EncodeBatch(txs), MaxLargeResponse, &out)
	if err == nil {
		return out, nil
	}
	var se *StatusError
	switch {
	case ctx.Err() != nil:
		return out, fmt.Errorf("client: POST %s: %w", path, ctx.Err())
	case !errors.As(err, &se), // no answer, or one that does not decode
		!se.fromNode,
		se.StatusCode == http.StatusServiceUnavailable,
		se.StatusCode == http.StatusTooManyRequests:
		return out, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return out, &refusal{StatusError: se, rule: quant.Errorf(quant.Code(se.Err.Err.Code), "%s", se.Err.Err.Message)}
}

// refusal is a node's refusal of a whole batch: a *StatusError whose code
// quant.CodeOf sees too.
type refusal struct {
	*StatusError
	rule *quant.RuleError
}

// Unwrap returns the status error and the refusal as a *quant.RuleError.
func (e *refusal) Unwrap() []error { return []error{e.StatusError, e.rule} }
