package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestVerdictOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want peer.Verdict
	}{
		{nil, peer.Accepted},
		{quant.Errorf(quant.CodeDuplicate, "known"), peer.Known},
		{fmt.Errorf("add: %w", quant.Errorf(quant.CodeDuplicate, "known")), peer.Known},
		{quant.Errorf(quant.CodeUnknownParent, "no parent"), peer.Orphan},
		{quant.Errorf(quant.CodeBadSeal, "no work"), peer.Invalid},
		{quant.Errorf(quant.CodeMalformed, "bad"), peer.Invalid},
		{mempool.ErrFull, peer.Declined},
		{fmt.Errorf("pool: %w", mempool.ErrFull), peer.Declined},
		{errors.New("store: disk full"), peer.Declined},
	} {
		if got := verdictOf(tc.err); got != tc.want {
			t.Errorf("verdictOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestTxVerdictOf(t *testing.T) {
	locked := quant.Errorf(quant.CodeLockedOwner, "needs 2 of 3")
	if got := txVerdictOf(locked); got != peer.Declined {
		t.Errorf("a locked write sent as a transaction: %v, want declined", got)
	}
	if got := verdictOf(locked); got != peer.Invalid {
		t.Errorf("a locked write in a quant: %v, want invalid", got)
	}
	if got := txVerdictOf(quant.Errorf(quant.CodeBadSignature, "forged")); got != peer.Invalid {
		t.Errorf("a forged transaction: %v, want invalid", got)
	}
}
