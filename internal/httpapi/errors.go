package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/quant"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	string(quant.CodeMalformed):      http.StatusBadRequest,
	string(quant.CodeInvalidRequest): http.StatusBadRequest,
	string(quant.CodeBadVersion):     http.StatusBadRequest,
	string(quant.CodeTooLarge):       http.StatusRequestEntityTooLarge,
	string(quant.CodeDuplicate):      http.StatusConflict,
	string(quant.CodeNotAllowed):     http.StatusForbidden,
	string(quant.CodeWrongChain):     http.StatusUnprocessableEntity,
	string(quant.CodeBadSignature):   http.StatusUnprocessableEntity,
	string(quant.CodeBadData):        http.StatusUnprocessableEntity,
	string(quant.CodeTimeTooOld):     http.StatusUnprocessableEntity,
	string(quant.CodeTimeTooNew):     http.StatusUnprocessableEntity,
	string(quant.CodeBadLink):        http.StatusUnprocessableEntity,
	string(quant.CodeBadAncestor):    http.StatusUnprocessableEntity,
	string(quant.CodeUnknownParent):  http.StatusUnprocessableEntity,
	string(quant.CodeBadMerkleRoot):  http.StatusUnprocessableEntity,
	string(quant.CodeBadSeal):        http.StatusUnprocessableEntity,
	string(quant.CodeBadRules):       http.StatusUnprocessableEntity,
	string(quant.CodeLimitExceeded):  http.StatusUnprocessableEntity,
	api.CodeNotFound:                 http.StatusNotFound,
	api.CodePoolFull:                 http.StatusTooManyRequests,
	api.CodeUnsupportedMedia:         http.StatusUnsupportedMediaType,
	api.CodeMethodNotAllowed:         http.StatusMethodNotAllowed,
	api.CodeUnauthorized:             http.StatusUnauthorized,
	api.CodeUnavailable:              http.StatusServiceUnavailable,
	api.CodeInternal:                 http.StatusInternalServerError,
}

// ErrRetry marks an error the client may retry (503); the node wraps its
// transient failures with it.
var ErrRetry = errors.New("retry later")

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
	case errors.Is(err, mempool.ErrFull):
		return api.CodePoolFull, "the transaction pool is full; retry later"
	case errors.Is(err, chain.ErrNotFound):
		return api.CodeNotFound, "not found"
	case errors.Is(err, ErrRetry):
		return api.CodeUnavailable, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return api.CodeUnavailable, "request cancelled"
	}
	return api.CodeInternal, "internal error"
}

// writeError sends err as api.Error with its status. Internal errors are
// logged with their detail and sent without it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := classify(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
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
