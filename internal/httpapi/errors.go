package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// What the node may answer that is not a rule of the chain. The node wraps
// them with its detail, fmt.Errorf("%w: quant %s is not stored here",
// httpapi.ErrNotFound, h); the detail after the sentinel is the message the
// client reads.
var (
	// ErrRetry marks a transient failure the client may retry (503
	// unavailable).
	ErrRetry = errors.New("retry later")
	// ErrNotFound marks something this node does not have (404 not_found).
	ErrNotFound = errors.New("not found")
	// ErrNotSupported marks a well-formed request that this node or chain
	// does not serve: a leap on a raft chain, a submission to a raft
	// chain's observer (400 not_supported). It is a client error, not a
	// conflict: 409 means duplicate to clients that read only the status,
	// and a refused submission must not look accepted.
	ErrNotSupported = errors.New("not supported here")
	// ErrBadRequest marks a request that is not well formed (400
	// invalid_request).
	ErrBadRequest = errors.New("invalid request")
)

// errorTable is the one table from errors to the API's codes and HTTP
// statuses. A *quant.RuleError is answered by the row of its code; any
// other error by the first row with a sentinel it wraps (errors.Is); an
// error no row names is 500 internal.
var errorTable = []struct {
	code   string
	status int
	// sentinels are the errors answered with this code.
	sentinels []error
	// msg, when set, replaces the error's text in the answer; otherwise
	// the answer is the text after the sentinel's, or all of it when
	// whole.
	msg   string
	whole bool
}{
	{code: string(quant.CodeMalformed), status: http.StatusBadRequest},
	{code: string(quant.CodeBadVersion), status: http.StatusBadRequest},
	{code: api.CodeInvalidRequest, status: http.StatusBadRequest,
		sentinels: []error{ErrBadRequest, api.ErrInvalid, peer.ErrBadAddress}},
	{code: api.CodeNotSupported, status: http.StatusBadRequest, sentinels: []error{ErrNotSupported}},
	{code: api.CodeUnauthorized, status: http.StatusUnauthorized},
	{code: string(quant.CodeNotAllowed), status: http.StatusForbidden},
	{code: api.CodeCrossSite, status: http.StatusForbidden},
	// A record write its key's lock refuses (docs/records.md).
	{code: string(quant.CodeLockedOwner), status: http.StatusForbidden},
	{code: string(quant.CodeLockedHash), status: http.StatusForbidden},
	{code: string(quant.CodeLockedTime), status: http.StatusForbidden},
	{code: string(quant.CodeWriteOnce), status: http.StatusForbidden},
	{code: string(quant.CodeAppendOnly), status: http.StatusForbidden},
	{code: string(quant.CodeLockedSecret), status: http.StatusForbidden},
	{code: string(quant.CodeStaleRoot), status: http.StatusForbidden},
	{code: api.CodeNotFound, status: http.StatusNotFound, sentinels: []error{ErrNotFound}},
	// A store's not-found, as a chain's reader wraps it: the detail names
	// keys, not what the client asked for.
	{code: api.CodeNotFound, status: http.StatusNotFound, sentinels: []error{chain.ErrNotFound}, msg: "not found"},
	{code: api.CodeMethodNotAllowed, status: http.StatusMethodNotAllowed},
	{code: api.CodeRequestTimeout, status: http.StatusRequestTimeout},
	{code: string(quant.CodeDuplicate), status: http.StatusConflict},
	{code: string(quant.CodeNullifierUsed), status: http.StatusConflict},
	{code: string(quant.CodeTooLarge), status: http.StatusRequestEntityTooLarge},
	{code: api.CodeUnsupportedMedia, status: http.StatusUnsupportedMediaType},
	{code: string(quant.CodeWrongChain), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadSignature), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadProof), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadData), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeTimeTooOld), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeTimeTooNew), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadLink), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadAncestor), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeUnknownParent), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadMerkleRoot), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadSeal), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeBadRules), status: http.StatusUnprocessableEntity},
	{code: string(quant.CodeLimitExceeded), status: http.StatusUnprocessableEntity},
	{code: api.CodeProofTooLong, status: http.StatusUnprocessableEntity},
	// A field the chain's rules list is not encrypted: the payload is not
	// what the chain takes (as bad_data), not a writer it refuses (403 is
	// for who writes: not_allowed, the locks); the same writer succeeds
	// with the field encrypted.
	{code: string(quant.CodeNotEncrypted), status: http.StatusUnprocessableEntity},
	{code: api.CodePoolFull, status: http.StatusTooManyRequests,
		sentinels: []error{mempool.ErrFull}, msg: "the transaction pool is full; retry later"},
	{code: api.CodeInternal, status: http.StatusInternalServerError},
	{code: api.CodeUnavailable, status: http.StatusServiceUnavailable, sentinels: []error{ErrRetry}, whole: true},
	{code: api.CodeUnavailable, status: http.StatusServiceUnavailable,
		sentinels: []error{context.Canceled, context.DeadlineExceeded}, msg: "request cancelled"},
}

// statusOf is the status of an error code (500 for a code the table lacks).
func statusOf(code string) int {
	for _, row := range errorTable {
		if row.code == code {
			return row.status
		}
	}
	return http.StatusInternalServerError
}

// apiError is an error this package raises with a code of its own.
type apiError struct{ code, msg string }

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errorf(code, msg string) error { return &apiError{code: code, msg: msg} }

// classify turns any error into the API's code and message.
func classify(err error) (code, msg string) {
	var (
		ae *apiError
		re *quant.RuleError
		mb *http.MaxBytesError
	)
	switch {
	case errors.As(err, &ae):
		return ae.code, ae.msg
	case errors.As(err, &re):
		return string(re.Code), re.Description
	case errors.As(err, &mb):
		return string(quant.CodeTooLarge), "request body is over the node's limit"
	}
	for _, row := range errorTable {
		for _, s := range row.sentinels {
			if errors.Is(err, s) {
				switch {
				case row.msg != "":
					return row.code, row.msg
				case row.whole:
					return row.code, err.Error()
				}
				return row.code, detail(err, s)
			}
		}
	}
	return api.CodeInternal, "internal error"
}

// detail is err's text without the sentinel's name when err wraps it as
// fmt.Errorf("%w: detail", sentinel).
func detail(err, sentinel error) string {
	if d, ok := strings.CutPrefix(err.Error(), sentinel.Error()+": "); ok && d != "" {
		return d
	}
	return err.Error()
}

// writeError sends err as api.Error with its status. Internal errors are
// logged with their detail and sent without it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := classify(err)
	status := statusOf(code)
	if status >= 500 && code != api.CodeUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	if code == api.CodePoolFull {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, api.Error{Err: api.ErrorBody{Code: code, Message: msg}})
}
