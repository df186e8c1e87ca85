package peer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Status is a node's tip.
type Status struct {
	Chain  quant.Hash
	Height uint64
	Tip    quant.Hash
	Work   *big.Int
}

// Host is what the peer layer asks of the node. Everything it hands over
// is checked by the Host as it checks what clients send.
type Host interface {
	Status() Status
	// SubmitTx validates and pools a transaction; a *quant.RuleError when
	// invalid (CodeDuplicate when already known).
	SubmitTx(tx *quant.Tx) error
	// AddQuant validates and adds a quant, maybe reorganizing; a
	// *quant.RuleError when invalid, CodeUnknownParent when its parent is
	// unknown, CodeDuplicate when already stored.
	AddQuant(q *quant.Quant) error
	HasQuant(h quant.Hash) bool
	Quant(h quant.Hash) (*quant.Quant, error)
	Locator() []quant.Hash
	// HashesAfter lists the main-chain hashes after the locator's fork
	// point, at most limit.
	HashesAfter(locator []quant.Hash, limit int) ([]quant.Hash, error)
	// Chains lists every chain the node follows, told to peers in hellos.
	Chains() []quant.Hash
	// Offered is told which chains a peer at addr follows (from its hello).
	// It is called on its own goroutine.
	Offered(addr string, chains []quant.Hash)
}

// Config configures a Service.
type Config struct {
	Key       ed25519.PrivateKey
	Advertise string // this node's address as peers reach it (HOST:PORT)
	Host      Host
	Bootstrap []string
	// Allow lists the members of a closed network; empty: open network.
	Allow    []ed25519.PublicKey
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Timing.
	PingInterval time.Duration // default 1s
	PeerTimeout  time.Duration // no answer for this long: down; default 6s
	MaxBackoff   time.Duration // longest wait between retries; default 30s
	SyncInterval time.Duration // default 3s
	SkewMs       int64         // accepted clock difference; default 30,000
	// NoSync turns off fetching quants from peers (for a chain whose
	// quants come another way, as a raft member's from its log). The node
	// still serves its quants to peers that sync from it.
	NoSync bool
	Now    func() time.Time
}

func (c *Config) ensureDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.PingInterval == 0 {
		c.PingInterval = time.Second
	}
	if c.PeerTimeout == 0 {
		c.PeerTimeout = 6 * time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = 3 * time.Second
	}
	if c.SkewMs == 0 {
		c.SkewMs = 30_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// PeerInfo describes a known peer.
type PeerInfo struct {
	ID       ID        `json:"id"`
	Addr     string    `json:"addr"`
	Height   uint64    `json:"height"`
	Work     string    `json:"work"`
	LastSeen time.Time `json:"last_seen"`
	Score    int       `json:"score"`
	State    string    `json:"state"` // live, or down (an address being retried)
	// Synced counts the quants this node took from the peer while syncing.
	Synced uint64 `json:"synced_quants"`
}

type peerState struct {
	id       ID
	key      ed25519.PublicKey
	addr     string
	status   Status
	lastSeen time.Time
	score    int
	synced   uint64
}

// retry is an address to (re)discover, with backoff.
type retry struct {
	next  time.Time
	wait  time.Duration
	fails int
}

// Bounds on the addresses being discovered: at most maxPending at once,
// and one that is not a bootstrap address is forgotten after maxFails
// failed attempts in a row (about ten minutes at the longest backoff).
const (
	maxPending = 256
	// maxServing bounds the peer messages served at once.
	maxServing = 32
	maxFails   = 20
)

// Service is a node's peer layer.
type Service struct {
	serving chan struct{} // a slot per message being served
	cfg     Config
	chain   quant.Hash // the chain this service is for
	self    ID
	log     *slog.Logger
	guard   *guard
	client  *http.Client
	m       *metrics

	mu      sync.Mutex
	peers   map[ID]*peerState
	pending map[string]*retry // addresses to discover
	banned  map[ID]time.Time
	seen    *seenSet

	txMu    sync.Mutex
	txQueue []queuedTx

	kick     chan struct{} // asks the sync loop to run now
	syncMu   sync.Mutex
	syncing  bool
	syncGoal uint64
}

type queuedTx struct {
	tx   *quant.Tx // pooled, so never changed; encoded when sent
	from ID
}

// New makes a Service; Run starts it.
func New(cfg Config) (*Service, error) {
	cfg.ensureDefaults()
	if cfg.Key == nil || cfg.Host == nil {
		return nil, errors.New("peer: Key and Host are required")
	}
	if _, _, err := net.SplitHostPort(cfg.Advertise); err != nil {
		return nil, fmt.Errorf("peer: advertise address %q: %w", cfg.Advertise, err)
	}
	self := IDOf(cfg.Key.Public().(ed25519.PublicKey))
	s := &Service{
		cfg:     cfg,
		chain:   cfg.Host.Status().Chain,
		self:    self,
		log:     cfg.Logger.With("node_id", self.String()[:12]),
		guard:   newGuard(self, cfg.SkewMs, cfg.Allow),
		client:  &http.Client{Timeout: 30 * time.Second},
		peers:   make(map[ID]*peerState),
		pending: make(map[string]*retry),
		banned:  make(map[ID]time.Time),
		seen:    newSeenSet(1 << 16),
		kick:    make(chan struct{}, 1),
		serving: make(chan struct{}, maxServing),
	}
	s.m = newMetrics(cfg.Registry, s.livePeers)
	for _, a := range cfg.Bootstrap {
		if a != cfg.Advertise {
			s.pending[a] = &retry{}
		}
	}
	return s, nil
}

// ID is this node's id.
func (s *Service) ID() ID { return s.self }

// Run runs discovery, liveness, gossip and sync until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.every(ctx, 500*time.Millisecond, s.discoverPending) })
	g.Go(func() error { return s.every(ctx, s.cfg.PingInterval, s.pingAll) })
	g.Go(func() error { return s.every(ctx, 25*time.Millisecond, s.flushTxs) })
	g.Go(func() error { return s.syncLoop(ctx) })
	return g.Wait()
}

func (s *Service) every(ctx context.Context, d time.Duration, fn func(context.Context)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) livePeers() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(len(s.peers))
}

// Peers lists the known peers, by address.
func (s *Service) Peers() []PeerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PeerInfo, 0, len(s.peers)+len(s.pending))
	for a := range s.pending {
		out = append(out, PeerInfo{Addr: a, State: "down"})
	}
	for _, p := range s.peers {
		st := "live"
		w := "0"
		if p.status.Work != nil {
			w = p.status.Work.String()
		}
		out = append(out, PeerInfo{ID: p.id, Addr: p.addr, Height: p.status.Height, Work: w, LastSeen: p.lastSeen, Score: p.score, State: st, Synced: p.synced})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out
}

// Syncing reports whether a sync runs, and the height it aims for.
func (s *Service) Syncing() (bool, uint64) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.syncing, s.syncGoal
}

// --- transport ---

func (s *Service) envelope(to ID, kind Kind, body []byte) *Envelope {
	var n [8]byte
	rand.Read(n[:])
	e := &Envelope{To: to, Time: s.cfg.Now().UnixMilli(), Nonce: binary.BigEndian.Uint64(n[:]), Kind: kind, Body: body, Chain: s.chain}
	e.Sign(s.cfg.Key)
	return e
}

// call sends a request to addr and returns the verified answer. want is
// the key the answer must come from (nil: any, for a first hello).
func (s *Service) call(ctx context.Context, addr string, to ID, want ed25519.PublicKey, kind Kind, body []byte) ([]byte, ed25519.PublicKey, error) {
	req := s.envelope(to, kind, body)
	hreq, err := http.NewRequestWithContext(ctx, "POST", "http://"+addr+ChainPath(s.chain), bytes.NewReader(req.Encode()))
	if err != nil {
		return nil, nil, err
	}
	hreq.Header.Set("Content-Type", "application/octet-stream")
	resp, err := s.client.Do(hreq)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply+1))
	if err != nil {
		return nil, nil, err
	}
	s.m.msgs.WithLabelValues(kindName(kind), "out").Inc()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal(b, &e)
		return nil, nil, fmt.Errorf("peer %s: %d %s: %s", addr, resp.StatusCode, e.Error.Code, e.Error.Message)
	}
	rep, err := decodeEnvelope(b, MaxReply)
	if err != nil {
		return nil, nil, err
	}
	rep.Chain = s.chain
	if rep.Kind != KindReply {
		return nil, nil, fmt.Errorf("%w: answer of kind %d", ErrMalformed, rep.Kind)
	}
	if want != nil && !bytes.Equal(rep.From, want) {
		return nil, nil, fmt.Errorf("peer %s answered with another key", addr)
	}
	if err := s.guard.check(rep, s.cfg.Now().UnixMilli()); err != nil {
		return nil, nil, err
	}
	answer, err := splitReply(rep.Body, req.Nonce)
	return answer, bytes.Clone(rep.From), err
}

// callPeer sends a request to a known peer.
func (s *Service) callPeer(ctx context.Context, p peerState, kind Kind, body []byte) ([]byte, error) {
	b, _, err := s.call(ctx, p.addr, p.id, p.key, kind, body)
	return b, err
}

// --- discovery and liveness ---

func (s *Service) hello() helloBody {
	st := s.cfg.Host.Status()
	return helloBody{Addr: s.cfg.Advertise, Chain: st.Chain, Status: toStatusBody(st), Version: protocolName, Peers: s.addrs(),
		Chains: s.cfg.Host.Chains()}
}

func toStatusBody(st Status) statusBody {
	return statusBody{Height: st.Height, Tip: st.Tip, Work: st.Work.String()}
}

func fromStatusBody(b statusBody) (Status, error) {
	w, ok := new(big.Int).SetString(b.Work, 10)
	if !ok || w.Sign() < 0 {
		return Status{}, quant.Errorf(quant.CodeMalformed, "status: work %q is not a number", b.Work)
	}
	return Status{Height: b.Height, Tip: b.Tip, Work: w}, nil
}

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

// ErrBadAddress refuses an address that cannot be a peer's: not HOST:PORT,
// or this node's own.
var ErrBadAddress = errors.New("peer: not a peer's address")

// Discover contacts the node at addr, learns its identity and chain, adds
// it as a peer and tells the other peers about it (distributed
// registration, as the seed's /discover).
func (s *Service) Discover(ctx context.Context, addr string) (PeerInfo, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return PeerInfo{}, fmt.Errorf("%w: %q is not HOST:PORT", ErrBadAddress, addr)
	}
	if addr == s.cfg.Advertise {
		return PeerInfo{}, fmt.Errorf("%w: %s is this node", ErrBadAddress, addr)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	h, _ := json.Marshal(s.hello())
	b, key, err := s.call(ctx, addr, ID{}, nil, KindHello, h)
	if err != nil {
		return PeerInfo{}, fmt.Errorf("peer: discover %s: %w", addr, err)
	}
	var hb helloBody
	if err := decodeBody(b, &hb); err != nil {
		return PeerInfo{}, err
	}
	p, err := s.admit(key, addr, hb)
	if err != nil {
		return PeerInfo{}, err
	}
	s.offered(hb)
	// Tell the others, and learn whom it knows.
	s.queueDiscover(hb.Peers)
	s.tellPeers(ctx, []string{addr}, p.id)
	return s.info(p.id), nil
}

// offered passes on the chains a peer's hello lists.
func (s *Service) offered(hb helloBody) {
	if _, _, err := net.SplitHostPort(hb.Addr); err != nil {
		return
	}
	if len(hb.Chains) > maxChains {
		hb.Chains = hb.Chains[:maxChains]
	}
	if len(hb.Chains) > 0 {
		go s.cfg.Host.Offered(hb.Addr, hb.Chains)
	}
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
	s.mu.Unlock()
	s.maybeKick(st)
	return p, nil
}

func (s *Service) info(id ID) PeerInfo {
	for _, p := range s.Peers() {
		if p.ID == id {
			return p
		}
	}
	return PeerInfo{ID: id}
}

func (s *Service) queueDiscover(addrs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	for _, p := range s.peers {
		known[p.addr] = true
	}
	for i, a := range addrs {
		if i == maxPeersList {
			break
		}
		if _, _, err := net.SplitHostPort(a); err != nil || a == s.cfg.Advertise || known[a] {
			continue
		}
		if _, ok := s.pending[a]; !ok && len(s.pending) < maxPending {
			s.pending[a] = &retry{}
		}
	}
}

// tellPeers asks every live peer but except to discover addrs.
func (s *Service) tellPeers(ctx context.Context, addrs []string, except ID) {
	body, _ := json.Marshal(peersBody{Addrs: addrs})
	for _, p := range s.live(except) {
		go func(p peerState) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			s.callPeer(ctx, p, KindPeers, body)
		}(p)
	}
}

// discoverPending tries the addresses waiting for discovery whose time has
// come, backing off on failure.
func (s *Service) discoverPending(ctx context.Context) {
	now := s.cfg.Now()
	s.mu.Lock()
	var due []string
	for a, r := range s.pending {
		if !now.Before(r.next) {
			due = append(due, a)
		}
	}
	s.mu.Unlock()
	for _, a := range due {
		if _, err := s.Discover(ctx, a); err != nil {
			s.mu.Lock()
			if r, ok := s.pending[a]; ok {
				r.fails++
				r.wait = min(max(2*r.wait, time.Second), s.cfg.MaxBackoff)
				r.next = now.Add(r.wait)
				if r.fails >= maxFails && !slices.Contains(s.cfg.Bootstrap, a) {
					delete(s.pending, a)
					s.log.Info("peer address forgotten after failed attempts", "peer", a, "attempts", r.fails)
				}
			}
			s.mu.Unlock()
			s.log.Debug("discovery failed; retrying later", "peer", a, "err", err)
		}
	}
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

// pingAll asks every peer for its status; a peer silent for PeerTimeout is
// marked down and its address retried with backoff.
func (s *Service) pingAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.live(ID{}) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			b, err := s.callPeer(cctx, p, KindStatus, nil)
			var sb statusBody
			if err == nil {
				err = decodeBody(b, &sb)
			}
			var st Status
			if err == nil {
				st, err = fromStatusBody(sb)
			}
			now := s.cfg.Now()
			s.mu.Lock()
			rec, ok := s.peers[p.id]
			switch {
			case !ok:
			case err == nil:
				rec.status, rec.lastSeen = st, now
			case now.Sub(rec.lastSeen) > s.cfg.PeerTimeout:
				delete(s.peers, p.id)
				s.pending[p.addr] = &retry{next: now.Add(time.Second), wait: time.Second}
				s.log.Info("peer down; will retry", "peer", p.addr, "err", err)
			}
			s.mu.Unlock()
			if err == nil {
				s.maybeKick(st)
			}
		}()
	}
	wg.Wait()
}

// maybeKick starts a sync when a peer has more work than this node.
func (s *Service) maybeKick(st Status) {
	if st.Work != nil && st.Work.Cmp(s.cfg.Host.Status().Work) > 0 {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// --- scoring ---

// penalty lowers a peer's score for invalid data; past -100 it is banned
// for 10 minutes.
func (s *Service) penalty(id ID, points int, why error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.invalid.Inc()
	p, ok := s.peers[id]
	if !ok {
		return
	}
	p.score -= points
	s.log.Warn("peer sent invalid data", "peer", p.addr, "score", p.score, "err", why)
	if p.score <= -100 {
		delete(s.peers, id)
		s.banned[id] = s.cfg.Now().Add(10 * time.Minute)
		s.log.Warn("peer banned", "peer", p.addr)
	}
}

func (s *Service) isBanned(id ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.banned[id]
	if ok && s.cfg.Now().After(until) {
		delete(s.banned, id)
		return false
	}
	return ok
}

// invalid reports whether err says the peer sent invalid data (not merely
// something known, or a quant whose parent we lack).
func invalid(err error) bool {
	switch quant.CodeOf(err) {
	case "", quant.CodeDuplicate, quant.CodeUnknownParent:
		return false
	}
	return true
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

func kindName(k Kind) string {
	switch k {
	case KindHello:
		return "hello"
	case KindStatus:
		return "status"
	case KindPeers:
		return "peers"
	case KindTx:
		return "tx"
	case KindAnnounce:
		return "announce"
	case KindGetQuant:
		return "get_quant"
	case KindReply:
		return "reply"
	case KindHashes:
		return "hashes"
	case KindGetQuants:
		return "get_quants"
	}
	return "unknown"
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

// Rehello sends this node's hello to every live peer again, so that they
// learn what changed (the chains it follows), and takes in their answers.
func (s *Service) Rehello(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, _ := json.Marshal(s.hello())
	var wg sync.WaitGroup
	for _, p := range s.live(ID{}) {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
	}
	wg.Wait()
}
