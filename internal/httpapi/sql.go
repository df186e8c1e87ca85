package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// SQL is the node's SQL projection of its chains, as the API serves it.
// The node wraps the errors of a refused or failed query with
// ErrBadRequest.
type SQL interface {
	// Query runs one read-only statement.
	Query(ctx context.Context, q api.SQLQuery) (*api.SQLResult, error)
	// Check compares the projection of every chain with the chain.
	Check(ctx context.Context) (api.SQLChecks, error)
	// Rebuild drops a chain's projection, to be projected again.
	Rebuild(ctx context.Context, chain quant.Hash) error
}

// errSQLOff answers the SQL routes of a node whose projection is off.
var errSQLOff = fmt.Errorf("%w: the SQL projection is off on this node (--sql off)", ErrNotSupported)

// sqlQuery serves POST /v1/sql.
func (s *Server) sqlQuery(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SQL == nil {
		s.writeError(w, r, errSQLOff)
		return
	}
	if mt := mediaType(r); mt != "application/json" && mt != "" {
		s.writeError(w, r, errorf(api.CodeUnsupportedMedia, "Content-Type "+mt+" is not JSON"))
		return
	}
	var q api.SQLQuery
	if err := decodeJSON(r, &q, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.cfg.SQL.Query(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// sqlCheck serves GET /v1/sql/check.
func (s *Server) sqlCheck(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SQL == nil {
		s.writeError(w, r, errSQLOff)
		return
	}
	res, err := s.cfg.SQL.Check(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// sqlRebuild serves POST /v1/sql/rebuild and
// /v1/chains/{chain}/sql/rebuild: the chain's projection is dropped and
// made again from its bang, behind the answer (202).
func (s *Server) sqlRebuild(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SQL == nil {
		s.writeError(w, r, errSQLOff)
		return
	}
	id := s.lg(r).Chain.ID()
	if err := s.cfg.SQL.Rebuild(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"chain": id.String(), "status": "rebuilding"})
}
