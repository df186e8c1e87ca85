package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// listChains is GET /v1/chains: every chain the node follows, the default
// first, with its rules and stats.
func (s *Server) listChains(w http.ResponseWriter, r *http.Request) {
	ls := s.cfg.Chains.Ledgers()
	out := make([]api.Chain, len(ls))
	for i, l := range ls {
		out[i] = s.chainOf(l)
	}
	writeJSON(w, http.StatusOK, out)
}

// nodeInfo is GET /v1/node: the node's id, public key, version and
// addresses, and its replica of each ordered chain it is a member of.
func (s *Server) nodeInfo(w http.ResponseWriter, r *http.Request) {
	info := s.cfg.Node.Info()
	info.Replicas = []api.NodeReplica{}
	for _, l := range s.cfg.Chains.Ledgers() {
		if st := l.Node.RaftStatus(); st != nil {
			info.Replicas = append(info.Replicas, api.NodeReplica{
				Chain: l.Chain.ID(), Engine: l.Chain.Rules().Engine, Member: st.ID, Addr: st.Addr})
		}
	}
	writeJSON(w, http.StatusOK, info)
}

// createChain is POST /v1/chains: a body of rules (JSON, the fields of a
// genesis file, of which only "name" is needed: see newRules) makes a bang
// and a new chain, which this node follows and
// offers to its peers. It answers 201 with the chain, 409 if this node
// already follows a chain with these rules, 422 for rules that cannot make
// a chain. With ?dry_run=true it checks the rules as creating would,
// stores nothing and answers 200 with the chain's id to be.
func (s *Server) createChain(w http.ResponseWriter, r *http.Request) {
	if mt := mediaType(r); mt != "application/json" && mt != "" {
		s.writeError(w, r, errorf(api.CodeUnsupportedMedia, "Content-Type "+mt+" is not JSON"))
		return
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rules, err := s.newRules(b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := r.URL.Query().Get("dry_run"); v == "true" || v == "1" {
		s.checkChain(w, r, &rules)
		return
	}
	l, err := s.cfg.Chains.CreateChain(r.Context(), &rules)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/chains/"+l.Chain.ID().String())
	writeJSON(w, http.StatusCreated, s.chainOf(l))
}

// leaveChain is DELETE /v1/chains/{chain}: the node stops following the
// chain and deletes its data, and does not follow it again when a peer
// offers it. 204; 400 not_supported for the default chain, a raft chain
// this node is a member of, or the parent of a fork it follows; 404 for a
// chain it does not follow.
func (s *Server) leaveChain(w http.ResponseWriter, r *http.Request) {
	id, err := quant.ParseHash(r.PathValue("chain"))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("%w: chain id: %v", ErrBadRequest, err))
		return
	}
	if err := s.cfg.Chains.LeaveChain(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// chainOf describes a followed chain.
func (s *Server) chainOf(l *Ledger) api.Chain {
	return api.Chain{ID: l.Chain.ID(), Rules: json.RawMessage(l.Chain.Bang().Rules), Stats: s.statsFor(l)}
}

// leapV1 is POST /v1/leap (and /v1/chains/{chain}/leap): make a quant now,
// answer with it in the /v1 shape.
func (s *Server) leapV1(w http.ResponseWriter, r *http.Request) {
	q, err := s.lg(r).Node.Leap(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.FromQuant(q, true))
}

// fork is POST /v1/fork (and /v1/chains/{chain}/fork): a body of
// {"height", "rules"} makes a chain that shares this chain's history up to
// its quant at height and follows the new rules after it. 201 with the new
// chain; 422 for bad rules or a height past the tip.
func (s *Server) fork(w http.ResponseWriter, r *http.Request) {
	var f api.Fork
	if err := decodeJSON(r, &f, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(f.Rules) == 0 {
		s.writeError(w, r, fmt.Errorf(`%w: body needs "height" and "rules"`, ErrBadRequest))
		return
	}
	rules, err := quant.ParseRules(f.Rules)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := s.cfg.Chains.Fork(r.Context(), s.lg(r).Chain.ID(), f.Height, &rules)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/chains/"+l.Chain.ID().String())
	writeJSON(w, http.StatusCreated, s.chainOf(l))
}

// lineage is GET /v1/lineage (and /v1/chains/{chain}/lineage): the chains
// this one grew from, nearest first, each fork point checked back to its
// chain's bang.
func (s *Server) lineage(w http.ResponseWriter, r *http.Request) {
	out, err := s.cfg.Chains.Lineage(s.lg(r).Chain.ID())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if out == nil {
		out = []api.Ancestor{}
	}
	writeJSON(w, http.StatusOK, out)
}
