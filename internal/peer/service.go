package peer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/quant"
)

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
	PingInterval time.Duration // default 2s
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
		c.PingInterval = 2 * time.Second
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

// Bounds on what the service holds and does at once.
const (
	// maxPending bounds the addresses being discovered.
	maxPending = 256
	// maxServing bounds the peer messages served at once.
	maxServing = 32
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

	// Work asked for outside Run, done by goroutines Run owns.
	sends   *workQueue // one message to one peer (announcements, peer lists)
	fetches *workQueue // announced quants to fetch
	offers  *workQueue // chains peers follow, passed to Host.Offered

	mu      sync.Mutex
	peers   map[ID]*peerState
	pending map[string]*backoff // addresses to discover (addPendingLocked)
	// pendingKick wakes the discovery loop, which sleeps while no address
	// waits for discovery; discoverPasses counts its passes (tests).
	pendingKick    chan struct{}
	discoverPasses atomic.Int64
	// suggestedBy is the peer that named each pending address
	// (queueDiscover); entries of resolved addresses are dropped lazily.
	suggestedBy map[string]ID
	scores      *scoreboard
	seen        *seenSet

	txMu    sync.Mutex
	txQueue []queuedTx
	txKick  chan struct{} // the queue holds something (txLoop)

	kick     chan struct{} // asks the sync loop to run now
	syncMu   sync.Mutex
	syncing  bool
	syncGoal uint64
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
		cfg:         cfg,
		chain:       cfg.Host.Status().Chain,
		self:        self,
		log:         cfg.Logger.With("node_id", self.String()[:12]),
		guard:       newGuard(self, cfg.SkewMs, cfg.Allow),
		client:      &http.Client{Timeout: 30 * time.Second},
		peers:       make(map[ID]*peerState),
		pending:     make(map[string]*backoff),
		suggestedBy: make(map[string]ID),
		scores:      newScoreboard(),
		seen:        newSeenSet(1 << 16),
		txKick:      make(chan struct{}, 1),
		pendingKick: make(chan struct{}, 1),
		kick:        make(chan struct{}, 1),
		serving:     make(chan struct{}, maxServing),
	}
	s.m = newMetrics(cfg.Registry, s.livePeers)
	s.sends = newWorkQueue("send", 16, 4096, s.m, s.log)
	s.fetches = newWorkQueue("fetch", 8, 1024, s.m, s.log)
	s.offers = newWorkQueue("offered", 2, 256, s.m, s.log)
	for _, a := range cfg.Bootstrap {
		if a != cfg.Advertise {
			s.pending[a] = &backoff{}
		}
	}
	return s, nil
}

// ID is this node's id.
func (s *Service) ID() ID { return s.self }

// Run runs discovery, liveness, gossip and sync until ctx ends, and
// returns once every goroutine it started has stopped.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.discoverLoop(ctx) })
	g.Go(func() error { return s.every(ctx, s.cfg.PingInterval, s.pingAll) })
	g.Go(func() error { return s.txLoop(ctx) })
	g.Go(func() error { return s.syncLoop(ctx) })
	s.sends.start(ctx, g)
	s.fetches.start(ctx, g)
	s.offers.start(ctx, g)
	err := g.Wait()
	s.client.CloseIdleConnections()
	return err
}

// every runs fn at once, then each time the wall clock reaches a multiple
// of d, until ctx ends. On the clock's multiples, not d after the start: a
// node runs one service per chain it follows, and their pings then wake
// it, and their peers, together once per interval rather than each at its
// own time.
func (s *Service) every(ctx context.Context, d time.Duration, fn func(context.Context)) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		fn(ctx)
		now := time.Now()
		t.Reset(now.Truncate(d).Add(d).Sub(now))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Syncing reports whether a sync runs, and the height it aims for.
func (s *Service) Syncing() (bool, uint64) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.syncing, s.syncGoal
}
