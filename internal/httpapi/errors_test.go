package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestErrorTable: every kind of error the node may return is answered with
// its code, status and message, and anything unknown is a 500 that tells
// nothing.
func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   string
		status int
		msg    string
	}{
		{fmt.Errorf("%w: quant 12 is not stored here", ErrNotFound), api.CodeNotFound, http.StatusNotFound, "quant 12 is not stored here"},
		{fmt.Errorf("store: height 12: %w", chain.ErrNotFound), api.CodeNotFound, http.StatusNotFound, "not found"},
		{fmt.Errorf("%w: a raft chain's leader cuts quants", ErrNotSupported), api.CodeNotSupported, http.StatusBadRequest, "a raft chain's leader cuts quants"},
		{fmt.Errorf("%w: batch is empty", ErrBadRequest), api.CodeInvalidRequest, http.StatusBadRequest, "batch is empty"},
		{fmt.Errorf("%w: data: missing", api.ErrInvalid), api.CodeInvalidRequest, http.StatusBadRequest, "data: missing"},
		{fmt.Errorf("%w: x is this node", peer.ErrBadAddress), api.CodeInvalidRequest, http.StatusBadRequest, "x is this node"},
		{fmt.Errorf("%w: no leader", ErrRetry), api.CodeUnavailable, http.StatusServiceUnavailable, "retry later: no leader"},
		{fmt.Errorf("admit: %w", mempool.ErrFull), api.CodePoolFull, http.StatusTooManyRequests, "the transaction pool is full; retry later"},
		{context.Canceled, api.CodeUnavailable, http.StatusServiceUnavailable, "request cancelled"},
		{quant.Errorf(quant.CodeDuplicate, "again"), string(quant.CodeDuplicate), http.StatusConflict, "again"},
		{quant.Errorf(quant.CodeBadData, "schema"), string(quant.CodeBadData), http.StatusUnprocessableEntity, "schema"},
		{quant.Errorf(quant.CodeNotEncrypted, "/p: plain"), string(quant.CodeNotEncrypted), http.StatusUnprocessableEntity, "/p: plain"},
		{quant.Errorf(quant.CodeMalformed, "short"), string(quant.CodeMalformed), http.StatusBadRequest, "short"},
		{&http.MaxBytesError{Limit: 1}, string(quant.CodeTooLarge), http.StatusRequestEntityTooLarge, "request body is over the node's limit"},
		{errorf(api.CodeProofTooLong, "12000 headers"), api.CodeProofTooLong, http.StatusUnprocessableEntity, "12000 headers"},
		{errors.New("disk on fire"), api.CodeInternal, http.StatusInternalServerError, "internal error"},
	} {
		code, msg := classify(tc.err)
		if code != tc.code || statusOf(code) != tc.status || msg != tc.msg {
			t.Errorf("%v: %s %d %q, want %s %d %q", tc.err, code, statusOf(code), msg, tc.code, tc.status, tc.msg)
		}
	}
	// Every rule code has a status of its own, not the 500 of a code the
	// table lacks.
	for _, c := range []quant.Code{quant.CodeMalformed, quant.CodeTooLarge, quant.CodeBadVersion, quant.CodeWrongChain,
		quant.CodeBadSignature, quant.CodeNotAllowed, quant.CodeBadData, quant.CodeTimeTooOld, quant.CodeTimeTooNew, quant.CodeDuplicate,
		quant.CodeBadLink, quant.CodeBadAncestor, quant.CodeUnknownParent, quant.CodeBadMerkleRoot, quant.CodeBadSeal, quant.CodeBadRules,
		quant.CodeLimitExceeded, quant.CodeNotEncrypted} {
		if statusOf(string(c)) >= 500 {
			t.Errorf("rule code %s has no status", c)
		}
	}
}
