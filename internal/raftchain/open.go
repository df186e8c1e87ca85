package raftchain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/replica"
)

// addrFile holds, in a replica's directory, the address its Raft
// transport bound first, reused at restarts: the cluster's configuration
// names it.
const addrFile = "raft-addr"

// bindTries is how many ports, from replica.Config.Bind's, a replica
// opened the first time tries: a node that is a member of several raft
// chains binds each chain's transport on the next free port.
const bindTries = 64

// submitBound bounds a node's Submit on top of the caller's context, so
// that a caller without a deadline does not wait for ever while the
// cluster has no leader.
const submitBound = 30 * time.Second

// nodeReplica is a Replica as a node runs it (replica.Replica): its
// directory and transport address, the membership loop, forwarding to the
// leader's node over the HTTP API.
type nodeReplica struct {
	r   *Replica
	dir *directory
	hc  *http.Client // the membership loop's and the forwarder's
}

var _ replica.Replica = (*nodeReplica)(nil)

// OpenReplica is raftchain's replica.Open: it opens the replica of a raft
// chain on one of its members. cfg.Dir holds Raft's state and addrFile;
// the transport binds where listenAddrs says: cfg.Bind (or the next free
// port) or cfg.Host on a port the system picks the first time, the same
// address at every restart. The returned replica
// forwards a follower's Submit to the leader's node (found with cfg.Peers)
// as a binary batch on the HTTP API; its Run bootstraps the cluster and
// adds the members that join.
func OpenReplica(cfg replica.Config) (replica.Replica, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	dir, err := newDirectory(cfg.Store, cfg.Key, cfg.Peers)
	if err != nil {
		return nil, err
	}
	bind, advertise, err := listenAddrs(cfg)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	r, err := Open(Config{
		Dir: cfg.Dir, Bind: bind, Advertise: advertise, Store: cfg.Store, Key: cfg.Key,
		Forwarder:         &httpForwarder{dir: dir, chain: cfg.Store.ID(), hc: hc},
		Logger:            cfg.Logger,
		OnCommit:          cfg.OnCommit,
		Registerer:        cfg.Registerer,
		CommitTimeout:     cfg.CommitTimeout,
		MaxInFlight:       cfg.MaxInFlight,
		SnapshotInterval:  cfg.SnapshotInterval,
		SnapshotThreshold: cfg.SnapshotEntries,
	})
	if err != nil {
		hc.CloseIdleConnections()
		return nil, err
	}
	if _, port, _ := net.SplitHostPort(bind); port == "0" {
		bind = r.Addr() // the port the system picked
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, addrFile), []byte(bind+"\n"), 0o600); err != nil {
		r.Close()
		hc.CloseIdleConnections()
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	return &nodeReplica{r: r, dir: dir, hc: hc}, nil
}

// validate names the first field of cfg that OpenReplica cannot use; the
// others are Config.Validate's.
func validate(cfg replica.Config) error {
	switch {
	case cfg.Dir == "":
		return errors.New("raftchain: replica config: Dir: must be set")
	case cfg.Store == nil:
		return errors.New("raftchain: replica config: Store: must be set")
	case cfg.Peers == nil:
		return errors.New("raftchain: replica config: Peers: must be set")
	case cfg.Host == "":
		return errors.New("raftchain: replica config: Host: must be set")
	}
	return nil
}

// listenAddrs are where the transport binds and the address it tells
// other members (empty: the bound one). A replica opened before binds
// where it did first (addrFile): the cluster's configuration names that
// address, so a cfg.Bind it does not fit is logged and left unused. The
// first time, it binds on cfg.Bind, or the first free port of bindTries
// from cfg.Bind's (port 0: one the system picks); without cfg.Bind, on
// cfg.Host (which may carry a port, not used) on a port the system picks.
// A transport bound on an unspecified host (0.0.0.0, ::) is told to other
// members at cfg.Host.
func listenAddrs(cfg replica.Config) (bind, advertise string, err error) {
	host := cfg.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Dir, addrFile)); err == nil {
		bind = strings.TrimSpace(string(b))
	}
	switch {
	case bind != "":
		if cfg.Bind != "" && !fits(bind, cfg.Bind) {
			log := cfg.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Warn("raft: the configured raft address is not used: the chain's cluster knows this member at the address it bound first",
				"raft_addr", cfg.Bind, "addr", bind, "file", filepath.Join(cfg.Dir, addrFile))
		}
	case cfg.Bind != "":
		if bind, err = freeAddr(cfg.Bind); err != nil {
			return "", "", err
		}
	default:
		bind = net.JoinHostPort(host, "0")
	}
	h, port, err := net.SplitHostPort(bind)
	if err != nil {
		return "", "", fmt.Errorf("raftchain: raft address %q: %w", bind, err)
	}
	if ip := net.ParseIP(h); h == "" || ip != nil && ip.IsUnspecified() {
		if port == "0" { // pick it now, to tell it
			if bind, err = freeAddr(bind); err != nil {
				return "", "", err
			}
			_, port, _ = net.SplitHostPort(bind)
		}
		advertise = net.JoinHostPort(host, port)
	}
	return bind, advertise, nil
}

// freeAddr is addr if a listener can bind it now, else the first of the
// next bindTries-1 ports that can be. On an unspecified host, port 0 is
// the port the system picks now; elsewhere, port 0 is left to the
// transport.
func freeAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("raftchain: raft address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("raftchain: raft address %q: bad port", addr)
	}
	if ip := net.ParseIP(host); p == 0 && host != "" && (ip == nil || !ip.IsUnspecified()) {
		return addr, nil
	}
	var last error
	for i := 0; i < bindTries && p+i <= 65535; i++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p+i)))
		if err != nil {
			last = err
			if p == 0 {
				break
			}
			continue
		}
		_, got, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close()
		return net.JoinHostPort(host, got), nil
	}
	return "", fmt.Errorf("raftchain: no free port for raft from %s (%d tried): %w", addr, bindTries, last)
}

// fits reports whether bound is an address a first open with the setting
// bind could have chosen: the same host, on bind's port or one of the
// bindTries after it (any port for port 0).
func fits(bound, bind string) bool {
	bh, bp, err1 := net.SplitHostPort(bound)
	sh, sp, err2 := net.SplitHostPort(bind)
	if err1 != nil || err2 != nil || bh != sh {
		return false
	}
	b, err1 := strconv.Atoi(bp)
	s, err2 := strconv.Atoi(sp)
	return err1 == nil && err2 == nil && (s == 0 || b >= s && b < s+bindTries)
}

// Chain implements replica.Replica.
func (n *nodeReplica) Chain() *chain.Chain { return n.r.Chain() }

// Submit implements replica.Replica: Replica.Submit under the caller's
// ctx, bounded by submitBound. An error that says the log cannot take txs
// now (no leader, the leader moved, busy or unreachable, or the deadline
// passed first) wraps replica.ErrUnavailable; txs may be committed later
// all the same. A refusal keeps its *quant.RuleError.
func (n *nodeReplica) Submit(ctx context.Context, txs []*quant.Tx) error {
	ctx, cancel := context.WithTimeout(ctx, submitBound)
	defer cancel()
	err := n.r.Submit(ctx, txs)
	if err != nil && (retryable(err) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("%w: %w", replica.ErrUnavailable, err)
	}
	return err
}

// Status implements replica.Replica.
func (n *nodeReplica) Status() *api.RaftStatus {
	s := n.r.Stats()
	out := &api.RaftStatus{ID: s.ID, Addr: n.r.Addr(), State: s.State, Term: s.Term, CommitIndex: s.CommitIndex,
		AppliedIndex: s.AppliedIndex, Leader: s.Leader, Pending: s.Pending}
	if v, err := n.r.Voters(); err == nil {
		out.Voters = v
	}
	if s.Halted != nil {
		out.Halted = s.Halted.Error()
	}
	return out
}

// Close implements replica.Replica: it closes the Replica (see there) and
// the HTTP connections it kept. It is idempotent.
func (n *nodeReplica) Close() error {
	err := n.r.Close()
	n.hc.CloseIdleConnections()
	return err
}
