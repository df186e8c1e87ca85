package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

func (s *Service) hello() helloBody {
	st := s.cfg.Host.Status()
	return helloBody{Addr: s.cfg.Advertise, Chain: st.Chain, Status: toStatusBody(st), Version: protocolName, Peers: s.addrs(),
		Chains: s.cfg.Host.Chains()}
}

func toStatusBody(st Status) statusBody {
	return statusBody{Height: st.Height, Tip: st.Tip, Work: st.Work.String()}
}

func fromStatusBody(b statusBody) (Status, error) {
	w, err := parseWork(b.Work)
	if err != nil {
		return Status{}, err
	}
	return Status{Height: b.Height, Tip: b.Tip, Work: w}, nil
}

// maxWorkDigits bounds the decimal work a peer may claim. An engine's
// weight is at most 2^64 per quant (pow's difficulty; poa and raft give 1
// or 2) over at most 2^64 quants, under 2^128 (39 digits); 80 digits hold
// even 2^256 (78).
const maxWorkDigits = 80

// parseWork reads a peer's claimed chain work: a decimal of at most
// maxWorkDigits ASCII digits, no sign. It stops a peer from making the node
// parse (in quadratic time), keep, compare and echo a number of any length,
// and checks the length before parsing. The error does not quote the claim.
func parseWork(s string) (*big.Int, error) {
	if len(s) == 0 || len(s) > maxWorkDigits {
		return nil, quant.Errorf(quant.CodeMalformed, "status: work has %d digits, want 1 to %d", len(s), maxWorkDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, quant.Errorf(quant.CodeMalformed, "status: work is not a decimal number")
		}
	}
	w, _ := new(big.Int).SetString(s, 10)
	return w, nil
}

// ErrBadAddress refuses an address that cannot be a peer's: not HOST:PORT,
// or this node's own.
var ErrBadAddress = errors.New("peer: not a peer's address")

// Discover contacts the node at addr, learns its identity and chain, adds
// it as a peer and tells the other peers about it (distributed
// registration, as the seed's /discover).
func (s *Service) Discover(ctx context.Context, addr string) (Info, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return Info{}, fmt.Errorf("%w: %q is not HOST:PORT", ErrBadAddress, addr)
	}
	if addr == s.cfg.Advertise {
		return Info{}, fmt.Errorf("%w: %s is this node", ErrBadAddress, addr)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h, _ := json.Marshal(s.hello())
	b, key, err := s.call(ctx, addr, ID{}, nil, KindHello, h)
	if err != nil {
		return Info{}, fmt.Errorf("peer: discover %s: %w", addr, err)
	}
	var hb helloBody
	if err := decodeBody(b, &hb); err != nil {
		return Info{}, err
	}
	p, err := s.admit(key, addr, hb)
	if err != nil {
		return Info{}, err
	}
	s.offered(hb)
	// Tell the others, and learn whom it knows.
	s.queueDiscover(p.id, hb.Peers)
	s.tellPeers([]string{addr}, p.id)
	return s.info(p.id), nil
}

// offered passes on the chains a peer's hello lists to Host.Offered, on a
// goroutine Run owns.
func (s *Service) offered(hb helloBody) {
	if _, _, err := net.SplitHostPort(hb.Addr); err != nil {
		return
	}
	if len(hb.Chains) > maxChains {
		hb.Chains = hb.Chains[:maxChains]
	}
	if len(hb.Chains) > 0 {
		s.offers.add(func(ctx context.Context) { s.cfg.Host.Offered(ctx, hb.Addr, hb.Chains) })
	}
}

// maxSuggestions bounds the addresses one peer may have waiting for
// discovery at once, so that no peer can make this node contact hundreds
// of addresses of its choosing: past it, what it names is left out until
// its earlier suggestions are resolved.
const maxSuggestions = 16

// queueDiscover adds addresses the peer from told of to those to discover,
// at most maxSuggestions of its own waiting at once.
func (s *Service) queueDiscover(from ID, addrs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	for _, p := range s.peers {
		known[p.addr] = true
	}
	waiting := 0
	for a, id := range s.suggestedBy {
		if _, ok := s.pending[a]; !ok {
			delete(s.suggestedBy, a)
			continue
		}
		if id == from {
			waiting++
		}
	}
	for i, a := range addrs {
		if i == maxPeersList || waiting >= maxSuggestions {
			break
		}
		if _, _, err := net.SplitHostPort(a); err != nil || a == s.cfg.Advertise || known[a] {
			continue
		}
		if _, ok := s.pending[a]; !ok && len(s.pending) < maxPending {
			s.addPendingLocked(a, &backoff{})
			s.suggestedBy[a] = from
			waiting++
		}
	}
}

// tellPeers asks every live peer but except to discover addrs.
func (s *Service) tellPeers(addrs []string, except ID) {
	body, _ := json.Marshal(peersBody{Addrs: addrs})
	for _, p := range s.live(except) {
		s.sends.add(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			s.callPeer(ctx, p, KindPeers, body)
		})
	}
}

// discoverEvery is how often the discovery loop looks for addresses whose
// time has come, while any waits.
const discoverEvery = 500 * time.Millisecond

// discoverLoop runs discoverPending every discoverEvery while addresses
// wait for discovery, and sleeps while none does until one is added: an
// idle node with all its peers live does not wake for it.
func (s *Service) discoverLoop(ctx context.Context) error {
	t := time.NewTicker(discoverEvery)
	defer t.Stop()
	for {
		s.discoverPending(ctx)
		s.discoverPasses.Add(1)
		s.mu.Lock()
		waiting := len(s.pending) > 0
		s.mu.Unlock()
		if !waiting {
			t.Stop()
			select {
			case <-ctx.Done():
				return nil
			case <-s.pendingKick:
			}
			t.Reset(discoverEvery)
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// addPendingLocked makes addr wait for discovery with backoff b, and wakes
// the discovery loop. The caller holds mu.
func (s *Service) addPendingLocked(addr string, b *backoff) {
	s.pending[addr] = b
	select {
	case s.pendingKick <- struct{}{}:
	default:
	}
}

// discoverPending tries the addresses waiting for discovery whose time has
// come, backing off on failure.
func (s *Service) discoverPending(ctx context.Context) {
	now := s.cfg.Now()
	s.mu.Lock()
	var due []string
	for a, b := range s.pending {
		if b.due(now) {
			due = append(due, a)
		}
	}
	s.mu.Unlock()
	for _, a := range due {
		if _, err := s.Discover(ctx, a); err != nil {
			s.mu.Lock()
			if b, ok := s.pending[a]; ok {
				b.failed(now, s.cfg.MaxBackoff)
				if b.givenUp(a, s.cfg.Bootstrap) {
					delete(s.pending, a)
					s.log.Info("peer address forgotten after failed attempts", "peer", a, "attempts", b.fails)
				}
			}
			s.mu.Unlock()
			s.log.Debug("discovery failed; retrying later", "peer", a, "err", err)
		}
	}
}

// Rehello sends this node's hello to every live peer again, so that they
// learn what changed (the chains it follows), and takes in their answers.
func (s *Service) Rehello(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, _ := json.Marshal(s.hello())
	var wg sync.WaitGroup
	for _, p := range s.live(ID{}) {
		wg.Go(func() {
			b, err := s.callPeer(ctx, p, KindHello, h)
			if err != nil {
				return
			}
			var hb helloBody
			if decodeBody(b, &hb) == nil {
				if _, err := s.admit(p.key, p.addr, hb); err == nil {
					s.offered(hb)
				}
			}
		})
	}
	wg.Wait()
}
