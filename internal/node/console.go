package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/qbc-chain/qbc/internal/history"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
)

// What the node does for its console (the admin UI at /ui/): the admin
// token a node reachable beyond loopback makes for itself, the sample
// ring behind GET /v1/node/history, the effective configuration with its
// secrets redacted, and the admin actions on peers and chains.

// UI modes (Config.UI).
const (
	UIOff   = "off"   // no /ui/
	UIRead  = "read"  // /ui/ without its admin page and actions
	UIAdmin = "admin" // /ui/ with its admin page (its actions need the admin token when one is set)
)

// adminTokenFile holds the admin token a node made for itself.
const adminTokenFile = "admin-token"

// isLoopback reports whether addr (HOST:PORT) listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// adminToken returns the token of a node that listens beyond loopback
// without one configured: the one in DataDir/admin-token, made (32 random
// bytes, hex, mode 0600) on first start. It stops a node on a network
// from leaving its admin routes open because its operator forgot a token.
func adminToken(dataDir string) (token, path string, made bool, err error) {
	path = filepath.Join(dataDir, adminTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, path, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", path, false, fmt.Errorf("node: admin token: %w", err)
	}
	var b [32]byte
	rand.Read(b[:])
	token = hex.EncodeToString(b[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", path, false, fmt.Errorf("node: admin token: %w", err)
	}
	_, err = f.WriteString(token + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return "", path, false, fmt.Errorf("node: admin token: %w", err)
	}
	return token, path, true, nil
}

// Settings is the node's effective configuration with its secrets
// redacted (tokens as "(set)", a SQL URL's password), as GET
// /v1/node/config answers it to an admin.
func (n *Node) Settings() any {
	c := n.cfg
	if c.DebugToken != "" {
		c.DebugToken = "(set)"
	}
	if c.AdminToken != "" {
		c.AdminToken = "(set)"
	}
	if u, err := url.Parse(c.SQL); err == nil && u.User != nil {
		c.SQL = u.Redacted()
	}
	return c
}

// History answers GET /v1/node/history: the sample interval and the
// samples later than since (Unix ms), oldest first.
func (n *Node) History(since int64) (time.Duration, []history.Sample) {
	return time.Duration(n.cfg.HistoryInterval), n.history.Since(since)
}

// RemovePeer forgets the peer at addr on every chain; ErrNotFound when
// no chain knew it.
func (n *Node) RemovePeer(addr string) error {
	found := false
	for _, l := range n.ledgers() {
		if l.p2p.Forget(addr) {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: no peer at %s", httpapi.ErrNotFound, addr)
	}
	n.log.Info("peer removed", "peer", addr)
	return nil
}

// FollowChain follows chain id, fetching its bang from the node at addr,
// even if it was left here before.
func (n *Node) FollowChain(ctx context.Context, id quant.Hash, addr string) (*httpapi.Ledger, error) {
	if l := n.ledger(id); l != nil {
		return l.api, nil
	}
	n.followedAgain(id)
	if err := n.followOffered(ctx, addr, id, 0); err != nil {
		if quant.CodeOf(err) != "" {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", httpapi.ErrBadRequest, err)
	}
	l := n.ledger(id)
	if l == nil {
		return nil, fmt.Errorf("%w: chain %s not followed", httpapi.ErrRetry, id)
	}
	return l.api, nil
}

// CheckChain is a dry run of CreateChain: the rules are resolved and
// checked and the bang made, and nothing is stored. It returns the id
// the chain would have.
func (n *Node) CheckChain(ctx context.Context, rules *quant.Rules) (quant.Hash, error) {
	if err := n.resolveParams(ctx, rules); err != nil {
		return quant.Hash{}, err
	}
	bang, err := quant.NewBang(*rules)
	if err != nil {
		return quant.Hash{}, err
	}
	if rules.Parent != nil {
		if err := n.checkForkPoint(rules.Parent); err != nil {
			return quant.Hash{}, err
		}
	}
	if n.ledger(bang.Hash()) != nil {
		return quant.Hash{}, quant.Errorf(quant.CodeDuplicate, "this node already follows chain %s (%s)", bang.Hash(), rules.Name)
	}
	f, ok := n.engines.Consensus(n.key)[rules.Engine]
	if !ok {
		return quant.Hash{}, quant.Errorf(quant.CodeBadRules, "engine %q is not one this node runs", rules.Engine)
	}
	if _, err := f(rules); err != nil {
		if quant.CodeOf(err) == "" {
			err = quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
		}
		return quant.Hash{}, err
	}
	return bang.Hash(), nil
}

// sample takes a reading every HistoryInterval and adds the sample since
// the one before to the ring, until ctx ends.
func (n *Node) sample(ctx context.Context) error {
	t := time.NewTicker(time.Duration(n.cfg.HistoryInterval))
	defer t.Stop()
	prev := n.reading()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			cur := n.reading()
			n.history.Add(history.Diff(prev, cur))
			prev = cur
		}
	}
}

// reading reads the node's counters: each chain's, and the process's and
// store's figures from the registry.
func (n *Node) reading() history.Reading {
	r := history.Reading{Time: time.Now().UnixMilli()}
	if fams, err := n.reg.Gather(); err == nil {
		for _, f := range fams {
			if len(f.Metric) == 0 {
				continue
			}
			m := f.Metric[0]
			switch f.GetName() {
			case "process_cpu_seconds_total":
				r.CPUSeconds = m.GetCounter().GetValue()
			case "process_resident_memory_bytes":
				r.RSSBytes = int64(m.GetGauge().GetValue())
			case "qbc_store_disk_bytes":
				r.DiskBytes = int64(m.GetGauge().GetValue())
			}
		}
	}
	for _, l := range n.ledgers() {
		tip := l.chain.Tip()
		c := history.ChainReading{ID: l.chain.ID().String(), Name: l.chain.Rules().Name,
			Height: tip.Header.Height, Txs: tip.Meta.Txs, PoolTxs: l.pool.Len()}
		var m dto.Metric
		if l.metrics.txsTotal.Write(&m) == nil {
			c.Committed = m.GetCounter().GetValue()
		}
		m.Reset()
		if l.metrics.quantsTotal.Write(&m) == nil {
			c.Quants = m.GetCounter().GetValue()
		}
		m.Reset()
		if l.metrics.accepted.Write(&m) == nil {
			c.Accepted = m.GetCounter().GetValue()
		}
		m.Reset()
		if l.metrics.addSeconds.Write(&m) == nil {
			c.CommitSeconds, c.CommitCount = m.GetHistogram().GetSampleSum(), float64(m.GetHistogram().GetSampleCount())
		}
		r.Chains = append(r.Chains, c)
	}
	return r
}
