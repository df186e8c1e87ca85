package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/client"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/events"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/raftchain"
	"github.com/qbc-chain/qbc/internal/store"
)

// A raft chain on a node: a member (its node key is listed in the bang)
// runs a raftchain.Replica, which is the only writer of the chain's store;
// quants come from the Raft log, never from peer sync or leaps. A node that
// is not a member follows the chain as an observer, by peer sync like any
// other chain. Members find each other through the chain's peer service
// (a member's key names its node), learn each other's Raft addresses from
// GET /v1/chains/{id}/stats, and bootstrap the cluster once all of them are
// reachable. A member forwards transactions to the leader's node over the
// HTTP API (POST /v1/chains/{id}/txs, binary batch), where they are
// proposed.

// raftFile holds, in a raft chain's directory, the address its Raft
// transport bound first, reused at restarts (the cluster's configuration
// names it).
const raftFile = "raft-addr"

// isRaftMember reports whether st's chain runs raft with key as a member.
func isRaftMember(st *store.Chain, key ed25519.PrivateKey) (bool, error) {
	bang, err := st.Bang()
	if err != nil {
		return false, err
	}
	rules, err := quant.DecodeRules(bang.Rules)
	if err != nil {
		return false, err
	}
	if rules.Engine != raftengine.Name {
		return false, nil
	}
	e, err := raftengine.New(rules, key)
	if err != nil {
		return false, err
	}
	_, ok := e.Self()
	return ok, nil
}

// openRaft opens the replica of a raft chain this node is a member of.
func (n *Node) openRaft(l *ledger, reg prometheus.Registerer) (*raftchain.Replica, error) {
	dir := filepath.Join(n.cfg.DataDir, "raft", l.st.ID().String())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node: raft dir: %w", err)
	}
	bind := n.raftBind()
	if b, err := os.ReadFile(filepath.Join(dir, raftFile)); err == nil {
		bind = strings.TrimSpace(string(b))
	}
	r, err := raftchain.Open(raftchain.Config{
		Dir: dir, Bind: bind, Store: l.st, Key: n.key,
		Forwarder: httpForwarder{l: l}, Logger: n.log, Registerer: reg,
		OnCommit:      l.raftCommitted,
		CommitTimeout: time.Duration(n.cfg.RaftCommitTimeout),
		MaxInFlight:   n.cfg.RaftInFlight,
	})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, raftFile), []byte(r.Addr()+"\n"), 0o600); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// raftBind is where a new raft chain's transport listens: the node's
// advertised host, a port the system picks.
func (n *Node) raftBind() string {
	host, _, _ := net.SplitHostPort(n.advertise)
	return net.JoinHostPort(host, "0")
}

// raftCommitted is told of each quant the Raft log adds (on the FSM
// goroutine): metrics and subscribers, as for any committed quant.
func (l *ledger) raftCommitted(q *quant.Quant) {
	l.metrics.quantsTotal.Inc()
	l.metrics.txsTotal.Add(float64(len(q.Txs)))
	l.metrics.height.Set(float64(q.Header.Height))
	l.bus.Publish(events.Event{Kind: events.KindQuant, Chain: l.chain.ID().String(), Data: q})
}

// raftSubmit proposes txs through Raft and returns once they are
// committed, with one error per transaction: those the chain refuses at
// admission get their own; a failure of the whole proposal is every
// proposed one's.
func (l *ledger) raftSubmit(txs []*quant.Tx) ([]quant.Hash, []error) {
	ids := quant.TxIDs(txs)
	errs := l.chain.CheckTxs(txs, ids)
	var ok []*quant.Tx
	var at []int
	for i, err := range errs {
		if err == nil {
			ok, at = append(ok, txs[i]), append(at, i)
		}
	}
	if len(ok) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.raft.Submit(ctx, ok); err != nil {
			if errors.Is(err, context.DeadlineExceeded) || isRetry(err) {
				err = fmt.Errorf("%w: %v", httpapi.ErrRetry, err)
			}
			// A forwarded batch may be partly committed: those that
			// are in the chain are done.
			for _, i := range at {
				if has, herr := l.st.HasTx(ids[i]); herr == nil && has {
					continue
				}
				errs[i] = err
			}
		}
	}
	for _, err := range errs {
		l.countSubmit(err)
	}
	return ids, errs
}

func isRetry(err error) bool {
	return errors.Is(err, raftchain.ErrNotLeader) || errors.Is(err, raftchain.ErrNoLeader) ||
		errors.Is(err, raftchain.ErrBusy) || errors.Is(err, raftchain.ErrUnavailable)
}

// raftStatus is the member's Raft figures for the chain's stats.
func (l *ledger) raftStatus() *api.RaftStatus {
	if l.raft == nil {
		return nil
	}
	s := l.raft.Stats()
	out := &api.RaftStatus{ID: s.ID, Addr: l.raft.Addr(), State: s.State, Term: s.Term, CommitIndex: s.CommitIndex,
		AppliedIndex: s.AppliedIndex, Leader: s.Leader, Pending: s.Pending}
	if s.Halted != nil {
		out.Halted = s.Halted.Error()
	}
	return out
}

// bootstrapRaft starts the cluster and keeps its membership whole. The
// first member the bang lists bootstraps it, once a majority of the listed
// members are reachable, with those; a node whose Raft state exists (after
// a restart, or once added) does nothing more here. Then, while this node
// leads, every listed member that is reachable but not yet a voter is added
// (it catches up from the log or a snapshot).
func (l *ledger) bootstrapRaft(ctx context.Context) error {
	e := l.chain.Engine().(*raftengine.Engine)
	self, _ := e.Self()
	members := e.Members()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st := l.raft.Stats()
		if st.Leader == "" && st.LastIndex == 0 && members[0].ID == self.ID {
			servers := l.reachableMembers(ctx, members, nil)
			if 2*len(servers) > len(members) {
				slices.SortFunc(servers, func(a, b raftchain.Server) int { return strings.Compare(a.ID, b.ID) })
				l.log.Info("raft: bootstrapping", "voters", len(servers), "members", len(members))
				if err := l.raft.Bootstrap(servers); err != nil {
					l.log.Warn("raft: bootstrap failed", "err", err)
				}
			}
			continue
		}
		if !l.raft.IsLeader() {
			continue
		}
		voters, err := l.raft.Voters()
		if err != nil || len(voters) == len(members) {
			continue
		}
		for _, s := range l.reachableMembers(ctx, members, voters) {
			if err := l.raft.AddVoter(ctx, s.ID, s.Addr); err != nil {
				l.log.Warn("raft: adding a member failed", "member", s.ID, "err", err)
				continue
			}
			l.log.Info("raft: member added", "member", s.ID, "addr", s.Addr)
		}
	}
}

// reachableMembers are the listed members, but those in skip, whose nodes
// are live peers telling their Raft address; this node is always one.
func (l *ledger) reachableMembers(ctx context.Context, members []raftengine.Member, skip []string) []raftchain.Server {
	self, _ := l.chain.Engine().(*raftengine.Engine).Self()
	var out []raftchain.Server
	for _, m := range members {
		if slices.Contains(skip, m.ID) {
			continue
		}
		if m.ID == self.ID {
			out = append(out, raftchain.Server{ID: m.ID, Addr: l.raft.Addr()})
			continue
		}
		if addr, err := l.memberRaftAddr(ctx, m); err == nil {
			out = append(out, raftchain.Server{ID: m.ID, Addr: addr})
		}
	}
	return out
}

// memberRaftAddr asks member m's node (a live peer on this chain) for its
// Raft address.
func (l *ledger) memberRaftAddr(ctx context.Context, m raftengine.Member) (string, error) {
	addr, err := l.memberHTTP(m.ID)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var st api.Stats
	if err := client.New(addr, nil).Get(ctx, "/v1/chains/"+l.chain.ID().String()+"/stats", &st); err != nil {
		return "", err
	}
	if st.Raft == nil || st.Raft.ID != m.ID || st.Raft.Addr == "" {
		return "", fmt.Errorf("node %s does not run member %s", addr, m.ID)
	}
	return st.Raft.Addr, nil
}

// memberHTTP is the API address of the node of member id: the live peer
// whose node key the bang lists for it.
func (l *ledger) memberHTTP(id string) (string, error) {
	e := l.chain.Engine().(*raftengine.Engine)
	for _, m := range e.Members() {
		if m.ID != id {
			continue
		}
		k, err := hex.DecodeString(m.Key)
		if err != nil {
			return "", err
		}
		want := peer.IDOf(ed25519.PublicKey(k))
		for _, p := range l.p2p.Peers() {
			if p.ID == want && p.State == "live" {
				return p.Addr, nil
			}
		}
		return "", fmt.Errorf("%w: member %s is not a live peer", raftchain.ErrUnavailable, id)
	}
	return "", fmt.Errorf("%w: no member %s", raftchain.ErrUnavailable, id)
}

// httpForwarder carries a member's transactions to the leader's node.
type httpForwarder struct{ l *ledger }

// Forward posts txs as a binary batch to the leader's node, which proposes
// them, and waits for its answer.
func (f httpForwarder) Forward(ctx context.Context, leader string, txs []*quant.Tx) error {
	addr, err := f.l.memberHTTP(leader)
	if err != nil {
		return err
	}
	url := "http://" + addr + "/v1/chains/" + f.l.chain.ID().String() + "/txs"
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(httpapi.EncodeBatch(txs)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", httpapi.BatchMediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", raftchain.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted:
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return fmt.Errorf("%w: leader answered %s", raftchain.ErrUnavailable, resp.Status)
	default:
		var e api.Error
		if json.Unmarshal(b, &e) == nil && e.Err.Code != "" {
			return quant.Errorf(quant.Code(e.Err.Code), "leader: %s", e.Err.Message)
		}
		return fmt.Errorf("%w: leader answered %s", raftchain.ErrUnavailable, resp.Status)
	}
	var out api.Batch
	if err := json.Unmarshal(b, &out); err != nil || len(out.Results) != len(txs) {
		return fmt.Errorf("%w: leader answered %s: %.200s", raftchain.ErrUnavailable, resp.Status, b)
	}
	for i, r := range out.Results {
		if r.Error != nil {
			if r.Error.Code == api.CodeUnavailable {
				return fmt.Errorf("%w: %s", raftchain.ErrUnavailable, r.Error.Message)
			}
			return quant.Errorf(quant.Code(r.Error.Code), "transaction %d: %s", i, r.Error.Message)
		}
	}
	return nil
}
