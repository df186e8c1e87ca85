package node

import (
	"errors"
	"slices"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestAcceptedOnly: only the transactions without an error are told of,
// with their own ids, in order.
func TestAcceptedOnly(t *testing.T) {
	txs := []*quant.Tx{{Nonce: 1}, {Nonce: 2}, {Nonce: 3}}
	ids := []quant.Hash{{1}, {2}, {3}}
	refused := errors.New("refused")
	for _, c := range []struct {
		errs []error
		want []int
	}{
		{[]error{nil, nil, nil}, []int{0, 1, 2}},
		{[]error{nil, refused, nil}, []int{0, 2}},
		{[]error{refused, nil, nil}, []int{1, 2}},
		{[]error{refused, refused, refused}, nil},
	} {
		gotTxs, gotIDs := acceptedOnly(txs, ids, c.errs)
		var wantTxs []*quant.Tx
		var wantIDs []quant.Hash
		for _, i := range c.want {
			wantTxs, wantIDs = append(wantTxs, txs[i]), append(wantIDs, ids[i])
		}
		if !slices.Equal(gotTxs, wantTxs) || !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("errors %v: got %v %v, want %v %v", c.errs, gotTxs, gotIDs, wantTxs, wantIDs)
		}
	}
}
