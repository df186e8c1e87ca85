package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/history"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Console is what the routes behind the node's console (its admin UI)
// ask of the node beyond Node and Chains. Config.Console nil answers
// them not_supported.
type Console interface {
	// History is the sample interval and the samples later than since
	// (Unix ms), oldest first.
	History(since int64) (time.Duration, []history.Sample)
	// Settings is the effective configuration, secrets redacted.
	Settings() any
	// RemovePeer forgets the peer at addr on every chain (ErrNotFound
	// when none knew it).
	RemovePeer(addr string) error
	// FollowChain follows chain id, fetching it from the node at addr.
	FollowChain(ctx context.Context, id quant.Hash, addr string) (*Ledger, error)
	// CheckChain checks rules as creating a chain would, storing nothing,
	// and returns the chain's id to be.
	CheckChain(ctx context.Context, rules *quant.Rules) (quant.Hash, error)
}

var errNoConsole = fmt.Errorf("%w: this node has no console routes", ErrNotSupported)

func (s *Server) consoleRoutes() {
	h := s.mux.HandleFunc
	h("GET /v1/node/history", s.nodeHistory)
	h("GET /v1/node/config", s.admin(s.nodeConfig))
	h("GET /v1/network", s.network)
	h("POST /v1/peers", s.admin(s.addPeer))
	h("DELETE /v1/peers/{addr}", s.admin(s.removePeer))
	h("POST /v1/chains/{chain}/follow", s.admin(s.followChain))
}

// History answers GET /v1/node/history.
type History struct {
	IntervalMS int64            `json:"interval_ms"`
	Samples    []history.Sample `json:"samples"`
}

// nodeHistory is GET /v1/node/history?since=MS: the node's samples (one
// every history_interval, the last history_keep of them) later than
// since, oldest first, for the console's charts.
func (s *Server) nodeHistory(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Console == nil {
		s.writeError(w, r, errNoConsole)
		return
	}
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		var err error
		if since, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.writeError(w, r, fmt.Errorf("%w: since: not Unix milliseconds", ErrBadRequest))
			return
		}
	}
	iv, samples := s.cfg.Console.History(since)
	if samples == nil {
		samples = []history.Sample{}
	}
	writeJSON(w, http.StatusOK, History{IntervalMS: iv.Milliseconds(), Samples: samples})
}

// nodeConfig is GET /v1/node/config (admin): the effective configuration,
// tokens and passwords redacted.
func (s *Server) nodeConfig(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Console == nil {
		s.writeError(w, r, errNoConsole)
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Console.Settings())
}

// NetworkPeer is one peer in GET /v1/network: the node at an address and
// the chains on which it is this node's peer, with its state there.
type NetworkPeer struct {
	ID       string         `json:"id,omitempty"`
	Addr     string         `json:"addr"`
	State    string         `json:"state"` // live on any chain, else down
	Score    int            `json:"score"` // the lowest of its chains'
	LastSeen time.Time      `json:"last_seen,omitzero"`
	Chains   []NetworkChain `json:"chains"`
}

// NetworkChain is a peer's place on one chain.
type NetworkChain struct {
	Chain  quant.Hash `json:"chain"`
	Name   string     `json:"name"`
	Height uint64     `json:"height"`
	State  string     `json:"state"`
	Score  int        `json:"score"`
}

// network is GET /v1/network: every peer of every followed chain, by
// address, with the chains it follows with this node.
func (s *Server) network(w http.ResponseWriter, r *http.Request) {
	byAddr := map[string]*NetworkPeer{}
	for _, l := range s.cfg.Chains.Ledgers() {
		for _, p := range l.Node.Peers() {
			np := byAddr[p.Addr]
			if np == nil {
				np = &NetworkPeer{Addr: p.Addr, State: "down", Score: p.Score}
				byAddr[p.Addr] = np
			}
			if p.ID != "" {
				np.ID = p.ID
			}
			if p.State == "live" {
				np.State = "live"
			}
			np.Score = min(np.Score, p.Score)
			if p.LastSeen.After(np.LastSeen) {
				np.LastSeen = p.LastSeen
			}
			np.Chains = append(np.Chains, NetworkChain{Chain: l.Chain.ID(), Name: l.Chain.Rules().Name,
				Height: p.Height, State: p.State, Score: p.Score})
		}
	}
	out := make([]NetworkPeer, 0, len(byAddr))
	for _, p := range byAddr {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	writeJSON(w, http.StatusOK, out)
}

// addPeer is POST /v1/peers (admin), {"addr":"HOST:PORT"}: the seed's
// POST /discover for one address, behind the admin token. 201 with the
// address.
func (s *Server) addPeer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Addr string `json:"addr"`
	}
	if err := decodeJSON(r, &body, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if body.Addr == "" {
		s.writeError(w, r, fmt.Errorf(`%w: body needs "addr"`, ErrBadRequest))
		return
	}
	if err := s.cfg.Node.AddPeer(r.Context(), body.Addr); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"addr": body.Addr})
}

// removePeer is DELETE /v1/peers/{addr} (admin): this node forgets the
// peer on every chain (until it, or another peer, introduces it again).
// 204; 404 for an address no chain knows.
func (s *Server) removePeer(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Console == nil {
		s.writeError(w, r, errNoConsole)
		return
	}
	if err := s.cfg.Console.RemovePeer(r.PathValue("addr")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// followChain is POST /v1/chains/{chain}/follow (admin), {"peer":
// "HOST:PORT"}: follow a chain another node follows, fetching its bang
// from that node (a chain left here before too). 200 with the chain.
func (s *Server) followChain(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Console == nil {
		s.writeError(w, r, errNoConsole)
		return
	}
	id, err := quant.ParseHash(r.PathValue("chain"))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("%w: chain id: %v", ErrBadRequest, err))
		return
	}
	var body struct {
		Peer string `json:"peer"`
	}
	if err := decodeJSON(r, &body, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if body.Peer == "" {
		s.writeError(w, r, fmt.Errorf(`%w: body needs "peer", the node to fetch the chain from`, ErrBadRequest))
		return
	}
	l, err := s.cfg.Console.FollowChain(r.Context(), id, body.Peer)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.chainOf(l))
}

// checkChain answers POST /v1/chains?dry_run=true: the rules checked as
// creating the chain would check them, and the id it would have; nothing
// is stored.
func (s *Server) checkChain(w http.ResponseWriter, r *http.Request, rules *quant.Rules) {
	if s.cfg.Console == nil {
		s.writeError(w, r, errNoConsole)
		return
	}
	id, err := s.cfg.Console.CheckChain(r.Context(), rules)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := rules.Encode()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Chain{ID: id, Rules: b})
}
