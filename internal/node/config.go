package node

import (
	"encoding/json"
	"fmt"
	"github.com/qbc-chain/qbc/internal/engines"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/consensus/pow"
	"github.com/qbc-chain/qbc/internal/mempool"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/raftchain"
)

// Config is everything a node is started with. DefaultConfig gives the
// embedded defaults; a config file and QBC_* environment variables (see
// cmd/qbc) override them.
type Config struct {
	// Addr is the HTTP API's listen address.
	Addr string `json:"addr"`
	// DataDir holds the store; default DefaultDataDir(Addr), one per
	// address, so two nodes on one machine never share files.
	DataDir string `json:"data_dir"`
	// Genesis is a rules JSON file for the node's default chain, used when
	// the store is empty. Empty: the embedded default chain.
	Genesis string `json:"genesis"`
	// Mine makes the node leap whenever transactions wait in a pool (or a
	// chain's rules ask for a heartbeat).
	Mine bool `json:"mine"`
	// Peers are addresses of other nodes (HOST:PORT) to join on start.
	Peers []string `json:"peers"`
	// Advertise is this node's address as other nodes reach it; default
	// the listen address (required when listening on 0.0.0.0).
	Advertise string `json:"advertise"`
	// NetworkAllow closes the network to these nodes' public keys (hex);
	// empty: an open network.
	NetworkAllow []string `json:"network_allow"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// MaxBodyBytes bounds an HTTP request body.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// PoolMaxTxs and PoolMaxBytes bound the transaction pool.
	PoolMaxTxs   int   `json:"pool_max_txs"`
	PoolMaxBytes int64 `json:"pool_max_bytes"`
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// DebugToken, if set, opens /debug/pprof to requests that carry it as
	// a bearer token. Empty: /debug/pprof is closed.
	DebugToken string `json:"debug_token"`
	// AdminToken, if set, is the bearer token the API's admin routes
	// (creating, forking and leaving chains) require. Empty: they are
	// open to anyone who reaches the API (the node warns at start).
	AdminToken string `json:"admin_token"`
	// ZKKeyDir, if set, is a directory of zk proving keys ({circuit}.pk)
	// this node serves at /v1/chains/{id}/zk/keys/{circuit}.pk, each only
	// if its SHA-256 is the one its chain's rules name (docs/zk.md).
	ZKKeyDir string `json:"zk_key_dir,omitempty"`
	// Follow says which chains offered by peers (chains they follow and
	// this node does not) this node follows: FollowAll or FollowNone.
	Follow string `json:"follow"`
	// MaxChains bounds the chains this node follows (made here, found in
	// its data dir, or offered by peers).
	MaxChains int `json:"max_chains"`
	// RaftCommitTimeout is Raft's CommitTimeout for the raft chains'
	// replicas (raftchain.Config.CommitTimeout): how often an idle leader
	// repeats the commit index to its followers; default 5 s. The
	// leader tells followers of each commit at once anyway (a nudge), so
	// this costs idle CPU, not latency.
	RaftCommitTimeout Duration `json:"raft_commit_timeout"`
	// RaftInFlight bounds the quants a raft chain's leader has in flight
	// (raftchain.Config.MaxInFlight); default 1. More can pay when members
	// are on machines of their own, far apart.
	RaftInFlight int `json:"raft_in_flight"`
	// RaftSnapshotInterval and RaftSnapshotEntries say how often a raft
	// chain's replica snapshots its log (raftchain.Config.SnapshotInterval,
	// SnapshotThreshold): it checks every interval (default 30 s) and
	// snapshots once that many entries (default 1024) follow the last
	// snapshot. A snapshot syncs the store and lets Raft drop the log
	// behind it; the cost is one fsync.
	RaftSnapshotInterval Duration `json:"raft_snapshot_interval"`
	RaftSnapshotEntries  int      `json:"raft_snapshot_entries"`
	// RaftAddr is where the transport of a raft chain this node is a
	// member of binds the first time (replica.Config.Bind): HOST:PORT, each
	// further chain on the next free port; port 0: a port the system picks
	// for each. An unspecified host (0.0.0.0) is told to the other members
	// as the advertised host. Empty: the advertised host, on a port the
	// system picks. A chain's replica keeps the address it bound first.
	RaftAddr string `json:"raft_addr"`
	// SQL is where the node keeps the SQL projection of its chains: empty
	// for a SQLite file in DataDir (sqlproj.SQLiteFile), "sqlite:PATH",
	// a postgres:// URL, or "off".
	SQL string `json:"sql"`

	// UI is what the node serves at /ui/, its console: "off" (nothing),
	// "read" (every page but the admin page, no admin actions) or "admin"
	// (everything; the admin actions need AdminToken when one is set).
	// Empty: "admin" on a loopback address, "read" beyond it.
	UI string `json:"ui"`
	// HistoryInterval is how often the node samples its figures for the
	// console's charts (GET /v1/node/history); default 10s. HistoryKeep
	// is how long it keeps them; default 6h (at most 100,000 samples).
	HistoryInterval Duration `json:"history_interval"`
	HistoryKeep     Duration `json:"history_keep"`

	// Version is the node's version as 'qbc version' says it, which GET
	// /v1/node tells. Not read from files.
	Version string `json:"-"`

	// Engines are the consensus engines the node runs; default every
	// engine QBC ships (engines.Default). Not read from files.
	Engines engines.Set `json:"-"`
}

// Follow policies.
const (
	FollowAll  = "all"  // follow every chain a peer follows
	FollowNone = "none" // follow only the chains made or configured here
)

// Duration is a time.Duration that reads and writes as "1.5s" in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultAddr is where a node listens by default, as the seed did.
const DefaultAddr = "127.0.0.1:5000"

// DefaultConfig returns the embedded defaults.
func DefaultConfig() Config {
	return Config{
		Addr:                 DefaultAddr,
		LogLevel:             "info",
		MaxBodyBytes:         8 << 20,
		PoolMaxTxs:           200_000,
		PoolMaxBytes:         128 << 20,
		ShutdownTimeout:      Duration(10 * time.Second),
		Follow:               FollowAll,
		MaxChains:            64,
		RaftCommitTimeout:    Duration(raftchain.DefaultCommitTimeout),
		RaftInFlight:         raftchain.DefaultMaxInFlight,
		RaftSnapshotInterval: Duration(raftchain.DefaultSnapshotInterval),
		RaftSnapshotEntries:  int(raftchain.DefaultSnapshotThreshold),
		HistoryInterval:      Duration(10 * time.Second),
		HistoryKeep:          Duration(6 * time.Hour),
	}
}

// DefaultDataDir is the data directory of a node listening on addr:
// $HOME/.qbc/<host>_<port> (./.qbc/... without a home directory).
func DefaultDataDir(addr string) string {
	base := ".qbc"
	if home, err := os.UserHomeDir(); err == nil {
		base = filepath.Join(home, ".qbc")
	}
	name := strings.NewReplacer(":", "_", "[", "", "]", "").Replace(addr)
	return filepath.Join(base, name)
}

// EnsureDefaults fills what is unset.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Engines.Consensus == nil {
		c.Engines = engines.Default()
	}
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir(c.Addr)
	}
	if c.LogLevel == "" {
		c.LogLevel = d.LogLevel
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.PoolMaxTxs == 0 {
		c.PoolMaxTxs = d.PoolMaxTxs
	}
	if c.PoolMaxBytes == 0 {
		c.PoolMaxBytes = d.PoolMaxBytes
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.Follow == "" {
		c.Follow = d.Follow
	}
	if c.MaxChains == 0 {
		c.MaxChains = d.MaxChains
	}
	if c.RaftCommitTimeout == 0 {
		c.RaftCommitTimeout = d.RaftCommitTimeout
	}
	if c.RaftInFlight == 0 {
		c.RaftInFlight = d.RaftInFlight
	}
	if c.RaftSnapshotInterval == 0 {
		c.RaftSnapshotInterval = d.RaftSnapshotInterval
	}
	if c.RaftSnapshotEntries == 0 {
		c.RaftSnapshotEntries = d.RaftSnapshotEntries
	}
	if c.UI == "" {
		c.UI = UIRead
		if isLoopback(c.Addr) {
			c.UI = UIAdmin
		}
	}
	if c.HistoryInterval == 0 {
		c.HistoryInterval = d.HistoryInterval
	}
	if c.HistoryKeep == 0 {
		c.HistoryKeep = d.HistoryKeep
	}
}

// maxHistory bounds the samples a node keeps.
const maxHistory = 100_000

// historySize is how many samples the node keeps.
func (c *Config) historySize() int {
	return int(min(max(int64(c.HistoryKeep/c.HistoryInterval), 1), maxHistory))
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("config: addr: %v", err)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("config: addr: bad port %q", port)
	}
	if c.DataDir == "" {
		return fmt.Errorf("config: data_dir: must be set")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("config: max_body_bytes: must be at least 1024")
	}
	if c.MaxChains < 1 {
		return fmt.Errorf("config: max_chains: must be at least 1")
	}
	if c.Follow != FollowAll && c.Follow != FollowNone {
		return fmt.Errorf("config: follow: %q is not %q or %q", c.Follow, FollowAll, FollowNone)
	}
	if c.ShutdownTimeout < 0 {
		return fmt.Errorf("config: shutdown_timeout: must not be negative")
	}
	if c.RaftCommitTimeout < Duration(time.Millisecond) {
		return fmt.Errorf("config: raft_commit_timeout: must be at least 1ms")
	}
	if c.RaftSnapshotInterval < Duration(10*time.Millisecond) {
		return fmt.Errorf("config: raft_snapshot_interval: must be at least 10ms")
	}
	if c.RaftSnapshotEntries < 1 {
		return fmt.Errorf("config: raft_snapshot_entries: must be at least 1")
	}
	switch c.UI {
	case "", UIOff, UIRead, UIAdmin: // "": by the address (EnsureDefaults)
	default:
		return fmt.Errorf("config: ui: %q is not off, read or admin", c.UI)
	}
	if c.HistoryInterval < Duration(100*time.Millisecond) {
		return fmt.Errorf("config: history_interval: must be at least 100ms")
	}
	if c.HistoryKeep < c.HistoryInterval {
		return fmt.Errorf("config: history_keep: must be at least history_interval")
	}
	if c.RaftInFlight < 1 || c.RaftInFlight > 64 {
		return fmt.Errorf("config: raft_in_flight: must be 1 to 64")
	}
	if c.RaftAddr != "" {
		if _, port, err := net.SplitHostPort(c.RaftAddr); err != nil {
			return fmt.Errorf("config: raft_addr: %v", err)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("config: raft_addr: bad port %q", port)
		}
	}
	if c.SQL != "" && c.SQL != "off" && !strings.HasPrefix(c.SQL, "sqlite:") &&
		!strings.HasPrefix(c.SQL, "postgres://") && !strings.HasPrefix(c.SQL, "postgresql://") {
		return fmt.Errorf("config: sql: must be off, sqlite:PATH or a postgres:// URL")
	}
	pool := mempool.Options{MaxTxs: c.PoolMaxTxs, MaxBytes: c.PoolMaxBytes}
	if err := pool.Validate(); err != nil {
		return fmt.Errorf("config: pool: %v", err)
	}
	for i, p := range c.Peers {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return fmt.Errorf("config: peers[%d]: %v", i, err)
		}
	}
	if c.Advertise != "" {
		if _, _, err := net.SplitHostPort(c.Advertise); err != nil {
			return fmt.Errorf("config: advertise: %v", err)
		}
	}
	for i, k := range c.NetworkAllow {
		if _, err := peer.ParseKeys([]string{k}); err != nil {
			return fmt.Errorf("config: network_allow[%d]: %v", i, err)
		}
	}
	return nil
}

// DefaultChainCreated is the fixed creation time of the embedded default
// chain (2026-01-01T00:00:00Z): every node on the defaults has the same bang,
// so they are on the same chain.
const DefaultChainCreated = 1767225600000

// DefaultRules are the rules of the embedded default chain: open writes (as
// the seed), proof of work with the default parameters.
func DefaultRules() quant.Rules {
	r := quant.DefaultRules("qbc", DefaultChainCreated)
	r.Engine = pow.Name
	p, _ := json.Marshal(pow.DefaultParams())
	r.EngineParams = p
	return r
}

// LoadRules reads a rules file (see quant.ParseRules).
func LoadRules(path string) (quant.Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return quant.Rules{}, fmt.Errorf("genesis: %w", err)
	}
	r, err := quant.ParseRules(b)
	if err != nil {
		return r, fmt.Errorf("genesis %s: %w", path, err)
	}
	return r, nil
}
