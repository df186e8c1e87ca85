package peer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// State is what the service knows of a peer's reachability.
type State string

// The peer states, as the HTTP API shows them.
const (
	StateLive State = "live" // answered within PeerTimeout
	StateDown State = "down" // an address being (re)discovered, with backoff
)

// Info describes a known peer.
type Info struct {
	ID       ID        `json:"id"`
	Addr     string    `json:"addr"`
	Height   uint64    `json:"height"`
	Work     string    `json:"work"`
	LastSeen time.Time `json:"last_seen"`
	Score    int       `json:"score"`
	State    State     `json:"state"`
	// Synced counts the quants this node took from the peer while syncing.
	Synced uint64 `json:"synced_quants"`
}

// peerState is a live peer. The records are changed only under
// Service.mu; elsewhere the service works on copies.
type peerState struct {
	id       ID
	key      ed25519.PublicKey
	addr     string
	status   Status
	lastSeen time.Time
	// statusAt is when status last came, in the answer to a ping or in a
	// ping from the peer: pingAll leaves alone a peer heard this recently.
	statusAt time.Time
	synced   uint64
}

type queuedTx struct {
	tx   *quant.Tx // pooled, so never changed; encoded when sent
	from ID
}

func (s *Service) livePeers() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(len(s.peers))
}

// Peers lists the known peers, by address.
func (s *Service) Peers() []Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Info, 0, len(s.peers)+len(s.pending))
	for a := range s.pending {
		out = append(out, Info{Addr: a, State: StateDown})
	}
	for _, p := range s.peers {
		w := "0"
		if p.status.Work != nil {
			w = p.status.Work.String()
		}
		out = append(out, Info{ID: p.id, Addr: p.addr, Height: p.status.Height, Work: w, LastSeen: p.lastSeen,
			Score: s.scores.score(p.id), State: StateLive, Synced: p.synced})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

func (s *Service) info(id ID) Info {
	for _, p := range s.Peers() {
		if p.ID == id {
			return p
		}
	}
	return Info{ID: id}
}

// Knows reports whether addr is a live peer, or an address being
// discovered, of this service.
func (s *Service) Knows(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[addr]; ok {
		return true
	}
	for _, p := range s.peers {
		if p.addr == addr {
			return true
		}
	}
	return false
}

// admit adds or refreshes a peer after a hello either way.
func (s *Service) admit(key ed25519.PublicKey, addr string, hb helloBody) (*peerState, error) {
	id := IDOf(key)
	if id == s.self {
		return nil, fmt.Errorf("%w: %s is this node", ErrBadAddress, addr)
	}
	if hb.Chain != s.cfg.Host.Status().Chain {
		return nil, quant.Errorf(quant.CodeWrongChain, "node %s at %s is on chain %s, not ours", id, addr, hb.Chain)
	}
	st, err := fromStatusBody(hb.Status)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	p, ok := s.peers[id]
	if !ok {
		p = &peerState{id: id, key: bytes.Clone(key)}
		s.peers[id] = p
		s.log.Info("peer added", "peer", addr, "peer_id", id.String()[:12], "height", st.Height)
	}
	if ok && p.addr != addr {
		delete(s.pending, p.addr)
	}
	p.addr, p.status, p.lastSeen = addr, st, s.cfg.Now()
	delete(s.pending, addr)
	added := *p
	s.mu.Unlock()
	s.maybeKick(st)
	if !ok {
		s.sends.add(func(ctx context.Context) { s.sendPending(ctx, added) })
	}
	return p, nil
}

// addrs lists the addresses of live peers, at most maxPeersList.
func (s *Service) addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.peers {
		if len(out) < maxPeersList {
			out = append(out, p.addr)
		}
	}
	return out
}

// anyLive reports whether a peer other than except is live.
func (s *Service) anyLive(except ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		if p.id != except {
			return true
		}
	}
	return false
}

// live returns copies of the live peers but except: the records
// themselves are changed only under mu.
func (s *Service) live(except ID) []peerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []peerState
	for _, p := range s.peers {
		if p.id != except {
			out = append(out, *p)
		}
	}
	return out
}

// peerByKey returns a copy of the peer with this key.
func (s *Service) peerByKey(key ed25519.PublicKey) (peerState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.peers[IDOf(key)]
	if !ok {
		return peerState{}, false
	}
	return *p, true
}

// downLocked drops a live peer silent for too long; its address is retried
// with backoff. The caller holds mu.
func (s *Service) downLocked(p *peerState, now time.Time) {
	delete(s.peers, p.id)
	s.scores.forget(p.id)
	s.addPendingLocked(p.addr, downBackoff(now))
}

// penalty scores a live peer down for a fault of the given cost; at
// banScore it is dropped and banned (see scoreboard).
func (s *Service) penalty(id ID, cost int, why error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.invalid.Inc()
	p, ok := s.peers[id]
	if !ok {
		return
	}
	score, banned := s.scores.penalize(id, cost, s.cfg.Now())
	s.log.Warn("peer sent invalid data", "peer", p.addr, "score", score, "err", why)
	if banned {
		delete(s.peers, id)
		s.log.Warn("peer banned", "peer", p.addr)
	}
}

func (s *Service) isBanned(id ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scores.isBanned(id, s.cfg.Now())
}

// Forget drops the peer at addr (live or being discovered) and reports
// whether there was one. It is an operator's removal, not a ban: the
// peer becomes a peer again if it, or a peer of ours, introduces it.
func (s *Service) Forget(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	if _, ok := s.pending[addr]; ok {
		delete(s.pending, addr)
		found = true
	}
	for id, p := range s.peers {
		if p.addr == addr {
			delete(s.peers, id)
			found = true
		}
	}
	return found
}
