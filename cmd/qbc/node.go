package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/node"
)

const nodeHelp = `Usage: qbc node [PORT] [flags]
       qbc node info [--node HOST:PORT]

Run a QBC node: keep its chain in the data directory, serve the HTTP API
(the seed's /inject, /leap, /json-chain, /chain, /stats, /discover and the
/v1 resources), and leap on request, or continuously with --mine. It runs
until interrupted (SIGINT or SIGTERM), then shuts down gracefully.

PORT is short for --addr 127.0.0.1:PORT, as the seed's 'python run.py 3000'.
Each address gets its own data directory by default
($HOME/.qbc/HOST_PORT), so nodes on one machine never share files.

Configuration, each level overriding the one before:
  1. built-in defaults (127.0.0.1:5000, ...)
  2. a JSON config file (--config FILE or QBC_CONFIG): the fields of the
     node's configuration, as --print-config shows them
  3. environment variables: QBC_ADDR, QBC_DATA_DIR, QBC_GENESIS, QBC_MINE,
     QBC_PEERS (comma-separated), QBC_ADVERTISE, QBC_NETWORK_ALLOW
     (comma-separated hex node keys), QBC_LOG_LEVEL, QBC_LOG_FORMAT,
     QBC_MAX_BODY_BYTES, QBC_POOL_MAX_TXS, QBC_POOL_MAX_BYTES,
     QBC_SHUTDOWN_TIMEOUT, QBC_MEMORY_LIMIT (the Go runtime's soft limit in
     bytes; 0: the pool's bound + 320 MiB; -1: none; GOMEMLIMIT wins),
     QBC_FOLLOW (all: follow the chains peers follow; none), QBC_MAX_CHAINS,
     QBC_RAFT_COMMIT_TIMEOUT (how often an idle raft leader repeats the
     commit index to followers; 5s), QBC_RAFT_IN_FLIGHT (quants a raft leader has in
     flight; 1), QBC_RAFT_SNAPSHOT_INTERVAL and QBC_RAFT_SNAPSHOT_ENTRIES
     (a raft chain's log is snapshotted, its store synced and the log
     behind it dropped, when a check every interval finds that many entries
     since the last snapshot; 30s, 1024), QBC_RAFT_ADDR (where a raft chain's transport binds:
     HOST:PORT, further chains on the next free ports; default the
     advertised host, a port the system picks), QBC_SQL (the SQL
     projection: off, sqlite:PATH or postgres://...; default a SQLite file
     in the data directory), QBC_DEBUG_TOKEN (opens /debug/pprof to requests carrying it as a
     bearer token; environment or file only), QBC_ADMIN_TOKEN (creating,
     forking and leaving chains, adding and removing peers need it as a
     bearer token; unset on a loopback address, they are open to anyone who
     reaches the API, and the node warns at start; unset beyond loopback,
     the node makes one at first start in DATA_DIR/admin-token, mode 0600,
     and logs where), QBC_UI (the console at /ui/: off, read, or admin;
     default admin on a loopback address, read beyond it),
     QBC_HISTORY_INTERVAL and QBC_HISTORY_KEEP (the console's samples:
     one every 10s, kept 6h)
  4. flags, and PORT

Logs go to standard error (text or JSON). Standard output gets one line,
"listening on HOST:PORT", once the node is ready.

'qbc node info' prints a running node's id, public key, version and
addresses (GET /v1/node); 'qbc node info --help' says more.
`

const nodeExample = `qbc node 3000 --mine
QBC_PEERS=127.0.0.1:3000 qbc node --addr 127.0.0.1:3001 --data-dir ./node2
qbc node --config qbc.json --print-config
qbc node info --node 127.0.0.1:3000`

// nodeSettings are the node's configuration and what cmd/qbc adds to it.
// It is also the config file's shape: node.Config's fields plus
// log_format.
type nodeSettings struct {
	node.Config
	LogFormat string `json:"log_format"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes
	// (debug.SetMemoryLimit): 0 sets it to the pool's bound plus 320 MiB
	// (448 MiB by default), -1 leaves it off. GOMEMLIMIT, when set, wins.
	MemoryLimit int64 `json:"memory_limit"`
}

// memoryHeadroom is what a node needs beside its pool: block cache and
// memtables, the quant being built, request buffers.
const memoryHeadroom = 320 << 20

// applyMemoryLimit sets the runtime's soft memory limit, so the garbage
// collector works harder near it instead of letting the heap double.
func applyMemoryLimit(e *env, s *nodeSettings) int64 {
	if e.getenv("GOMEMLIMIT") != "" || s.MemoryLimit < 0 {
		return -1
	}
	limit := s.MemoryLimit
	if limit == 0 {
		limit = s.PoolMaxBytes + memoryHeadroom
	}
	debug.SetMemoryLimit(limit)
	return limit
}

// nodeEnv is one QBC_* variable and how it sets the configuration.
type nodeEnv struct {
	name string
	set  func(s *nodeSettings, v string) error
}

func nodeEnvs() []nodeEnv {
	str := func(dst func(s *nodeSettings) *string) func(*nodeSettings, string) error {
		return func(s *nodeSettings, v string) error { *dst(s) = v; return nil }
	}
	integer := func(set func(s *nodeSettings, n int64)) func(*nodeSettings, string) error {
		return func(s *nodeSettings, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("not an integer")
			}
			set(s, n)
			return nil
		}
	}
	duration := func(example string, set func(s *nodeSettings, d node.Duration)) func(*nodeSettings, string) error {
		return func(s *nodeSettings, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("not a duration like %s", example)
			}
			set(s, node.Duration(d))
			return nil
		}
	}
	return []nodeEnv{
		{"QBC_ADDR", str(func(s *nodeSettings) *string { return &s.Addr })},
		{"QBC_DATA_DIR", str(func(s *nodeSettings) *string { return &s.DataDir })},
		{"QBC_GENESIS", str(func(s *nodeSettings) *string { return &s.Genesis })},
		{"QBC_MINE", func(s *nodeSettings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("not true or false")
			}
			s.Mine = b
			return nil
		}},
		{"QBC_PEERS", func(s *nodeSettings, v string) error { s.Peers = splitList(v); return nil }},
		{"QBC_ADVERTISE", str(func(s *nodeSettings) *string { return &s.Advertise })},
		{"QBC_NETWORK_ALLOW", func(s *nodeSettings, v string) error { s.NetworkAllow = splitList(v); return nil }},
		{"QBC_LOG_LEVEL", str(func(s *nodeSettings) *string { return &s.LogLevel })},
		{"QBC_LOG_FORMAT", str(func(s *nodeSettings) *string { return &s.LogFormat })},
		{"QBC_MAX_BODY_BYTES", integer(func(s *nodeSettings, n int64) { s.MaxBodyBytes = n })},
		{"QBC_POOL_MAX_TXS", integer(func(s *nodeSettings, n int64) { s.PoolMaxTxs = int(n) })},
		{"QBC_POOL_MAX_BYTES", integer(func(s *nodeSettings, n int64) { s.PoolMaxBytes = n })},
		{"QBC_SHUTDOWN_TIMEOUT", duration("10s", func(s *nodeSettings, d node.Duration) { s.ShutdownTimeout = d })},
		{"QBC_DEBUG_TOKEN", str(func(s *nodeSettings) *string { return &s.DebugToken })},
		{"QBC_ADMIN_TOKEN", str(func(s *nodeSettings) *string { return &s.AdminToken })},
		{"QBC_ZK_KEY_DIR", str(func(s *nodeSettings) *string { return &s.ZKKeyDir })},
		{"QBC_FOLLOW", str(func(s *nodeSettings) *string { return &s.Follow })},
		{"QBC_MAX_CHAINS", integer(func(s *nodeSettings, n int64) { s.MaxChains = int(n) })},
		{"QBC_MEMORY_LIMIT", integer(func(s *nodeSettings, n int64) { s.MemoryLimit = n })},
		{"QBC_RAFT_COMMIT_TIMEOUT", duration("5s", func(s *nodeSettings, d node.Duration) { s.RaftCommitTimeout = d })},
		{"QBC_RAFT_IN_FLIGHT", integer(func(s *nodeSettings, n int64) { s.RaftInFlight = int(n) })},
		{"QBC_RAFT_SNAPSHOT_INTERVAL", duration("30s", func(s *nodeSettings, d node.Duration) { s.RaftSnapshotInterval = d })},
		{"QBC_RAFT_SNAPSHOT_ENTRIES", integer(func(s *nodeSettings, n int64) { s.RaftSnapshotEntries = int(n) })},
		{"QBC_RAFT_ADDR", str(func(s *nodeSettings) *string { return &s.RaftAddr })},
		{"QBC_SQL", str(func(s *nodeSettings) *string { return &s.SQL })},
		{"QBC_UI", str(func(s *nodeSettings) *string { return &s.UI })},
		{"QBC_HISTORY_INTERVAL", duration("10s", func(s *nodeSettings, d node.Duration) { s.HistoryInterval = d })},
		{"QBC_HISTORY_KEEP", duration("6h", func(s *nodeSettings, d node.Duration) { s.HistoryKeep = d })},
	}
}

func runNode(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "info" {
		return runNodeInfo(ctx, e, args[1:])
	}
	fs := newFlags(e, "node", nodeHelp, nodeExample)
	var (
		addr        = fs.String("addr", "", "listen `HOST:PORT` (default "+node.DefaultAddr+")")
		dataDir     = fs.String("data-dir", "", "data `directory` (default $HOME/.qbc/HOST_PORT)")
		configFile  = fs.String("config", "", "JSON config `file` (default from QBC_CONFIG)")
		genesis     = fs.String("genesis", "", "rules JSON `file` of the chain to create in an empty data directory")
		mine        = fs.Bool("mine", false, "leap whenever transactions wait (or the rules ask for a heartbeat)")
		peers       = fs.String("peers", "", "other nodes, comma-separated `HOST:PORT,...`")
		advertise   = fs.String("advertise", "", "this node's `HOST:PORT` as other nodes reach it (default the listen address)")
		raftAddr    = fs.String("raft-addr", "", "where raft chains' transports bind, `HOST:PORT` (further chains: the next free ports)")
		sqlTo       = fs.String("sql", "", "where the SQL projection is kept: `off`, sqlite:PATH or postgres://... (default a SQLite file in the data directory)")
		allow       = fs.String("network-allow", "", "close the network to these node public keys, comma-separated `HEX,...`")
		logLevel    = fs.String("log-level", "", "`level`: debug, info, warn or error (default info)")
		logFormat   = fs.String("log-format", "", "log `format`: text or json (default text)")
		adminToken  = fs.String("admin-token", "", "the admin `token` creating, forking and leaving chains need (default from QBC_ADMIN_TOKEN)")
		uiMode      = fs.String("ui", "", "the console at /ui/: `off`, read or admin (default admin on loopback, read beyond it)")
		zkKeys      = fs.String("zk-keys", "", "`directory` of zk proving keys (CIRCUIT.pk) to serve, checked against each chain's rules (default from QBC_ZK_KEY_DIR)")
		addrFile    = fs.String("addr-file", "", "write the address the node listens on to `file` once ready (useful with port 0)")
		printConfig = fs.Bool("print-config", false, "print the resulting configuration as JSON and exit")
	)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("node", pos, 0, 1); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(pos) == 1 {
		port, err := strconv.ParseUint(pos[0], 10, 16)
		if err != nil {
			return usagef("node: PORT %q is not a port number\nRun 'qbc node --help' for usage.", pos[0])
		}
		if set["addr"] {
			return usagef("node: give PORT or --addr, not both")
		}
		*addr = "127.0.0.1:" + strconv.FormatUint(port, 10)
		set["addr"] = true
	}

	// Defaults < config file < environment < flags.
	s := nodeSettings{Config: node.DefaultConfig(), LogFormat: "text"}
	path := e.getenv("QBC_CONFIG")
	if set["config"] {
		path = *configFile
	}
	if path != "" {
		if err := loadNodeConfig(path, &s); err != nil {
			return err
		}
	}
	for _, v := range nodeEnvs() {
		if val, ok := lookupEnv(e, v.name); ok {
			if err := v.set(&s, val); err != nil {
				return usagef("node: %s=%q: %v", v.name, val, err)
			}
		}
	}
	if set["addr"] {
		s.Addr = *addr
	}
	if set["data-dir"] {
		s.DataDir = *dataDir
	}
	if set["genesis"] {
		s.Genesis = *genesis
	}
	if set["mine"] {
		s.Mine = *mine
	}
	if set["peers"] {
		s.Peers = splitList(*peers)
	}
	if set["advertise"] {
		s.Advertise = *advertise
	}
	if set["raft-addr"] {
		s.RaftAddr = *raftAddr
	}
	if set["sql"] {
		s.SQL = *sqlTo
	}
	if set["network-allow"] {
		s.NetworkAllow = splitList(*allow)
	}
	if set["log-level"] {
		s.LogLevel = *logLevel
	}
	if set["log-format"] {
		s.LogFormat = *logFormat
	}
	if set["admin-token"] {
		s.AdminToken = *adminToken
	}
	if set["ui"] {
		s.UI = *uiMode
	}
	if *zkKeys != "" {
		s.ZKKeyDir = *zkKeys
	}

	s.EnsureDefaults()
	if err := s.Validate(); err != nil {
		return usagef("node: %v", err)
	}
	logger, err := newLogger(e.stderr, s.LogLevel, s.LogFormat)
	if err != nil {
		return usagef("node: %v", err)
	}
	if *printConfig {
		shown := s
		if shown.DebugToken != "" {
			shown.DebugToken = "(set)"
		}
		if u, err := url.Parse(shown.SQL); err == nil && u.User != nil {
			shown.SQL = u.Redacted()
		}
		if shown.AdminToken != "" {
			shown.AdminToken = "(set)"
		}
		return writeJSON(e.stdout, shown)
	}

	s.Version = qbcVersion()
	n, err := node.New(s.Config, logger)
	if err != nil {
		return err
	}
	if limit := applyMemoryLimit(e, &s); limit > 0 {
		logger.Info("memory limit", "bytes", limit)
	}
	if *addrFile != "" {
		if err := atomicfile.Write(*addrFile, []byte(n.Addr()+"\n"), 0o644); err != nil {
			return errors.Join(fmt.Errorf("node: --addr-file: %w", err), n.Close())
		}
	}
	fmt.Fprintf(e.stdout, "listening on %s\n", n.Addr())
	runErr := n.Run(ctx)
	return errors.Join(runErr, n.Close())
}

// loadNodeConfig reads a config file over s. Unknown fields are refused,
// so a misspelt setting is an error, not a silent default.
func loadNodeConfig(path string, s *nodeSettings) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usagef("node: config: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return usagef("node: config %s: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return usagef("node: config %s: data after the JSON object", path)
	}
	return nil
}

// lookupEnv returns an environment variable; an empty one counts as unset.
func lookupEnv(e *env, name string) (string, bool) {
	v := e.getenv(name)
	return v, v != ""
}

// newLogger makes the node's structured logger on w.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %v", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q is not text or json", format)
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
