package raftchain

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/replica"
	"github.com/qbc-chain/qbc/internal/store"
)

// Membership loop timing: how often Run looks at the cluster, and how
// long it waits for a member's node to tell its Raft address.
const (
	membershipTick = 200 * time.Millisecond
	// settledTick is the look's interval once the cluster has a leader
	// and, seen from the leader, every listed member: an idle member
	// should not wake five times a second for nothing.
	settledTick = 2 * time.Second
	askTimeout  = 5 * time.Second
)

// directory finds the HTTP API of the node of each member the bang lists:
// the live peer whose node key is the member's.
type directory struct {
	peers replica.Directory
	keys  map[string]ed25519.PublicKey // by member id
}

// newDirectory reads the members' keys from st's bang.
func newDirectory(st *store.Chain, key ed25519.PrivateKey, peers replica.Directory) (*directory, error) {
	bang, err := st.Bang()
	if err != nil {
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	rules, err := quant.DecodeRules(bang.Rules)
	if err != nil {
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	e, err := raftengine.New(rules, key)
	if err != nil {
		return nil, fmt.Errorf("raftchain: %w", err)
	}
	d := &directory{peers: peers, keys: make(map[string]ed25519.PublicKey)}
	for _, m := range e.Members() {
		k, err := hex.DecodeString(m.Key)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("raftchain: member %s: bad key %q", m.ID, m.Key)
		}
		d.keys[m.ID] = ed25519.PublicKey(k)
	}
	return d, nil
}

// httpAddr is the API address (HOST:PORT) of member id's node, if it is a
// live peer; ErrUnavailable otherwise.
func (d *directory) httpAddr(id string) (string, error) {
	k, ok := d.keys[id]
	if !ok {
		return "", fmt.Errorf("%w: no member %s", ErrUnavailable, id)
	}
	addr, ok := d.peers.Addr(k)
	if !ok {
		return "", fmt.Errorf("%w: member %s is not a live peer", ErrUnavailable, id)
	}
	return addr, nil
}

// Run implements replica.Replica: it starts the cluster and keeps its
// membership whole until ctx ends or the replica is closed, then returns
// nil. The first member the bang lists bootstraps the cluster, once a
// majority of the listed members are reachable, with those; a replica
// whose Raft state exists (after a restart, or once added) does nothing
// more here. Then, while this replica leads, every listed member that is
// reachable but not yet a voter is added (it catches up from the log or a
// snapshot). A member is reachable when its node is a live peer that tells
// its Raft address in GET /v1/chains/{id}/stats.
func (n *nodeReplica) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { // Close ends Run too
		defer wg.Done()
		select {
		case <-n.r.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	members := n.r.engine.Members()
	t := time.NewTimer(membershipTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st := n.r.Stats()
		settled := st.Leader != ""
		switch {
		case st.Leader == "" && st.LastIndex == 0 && members[0].ID == n.r.self.ID:
			n.bootstrap(ctx, members)
		case n.r.IsLeader():
			settled = n.addMembers(ctx, members)
		}
		if settled {
			t.Reset(settledTick)
		} else {
			t.Reset(membershipTick)
		}
	}
}

// bootstrap starts a new cluster with the reachable members as voters if
// they are a majority of the listed ones.
func (n *nodeReplica) bootstrap(ctx context.Context, members []raftengine.Member) {
	servers := n.reachable(ctx, members, nil)
	if 2*len(servers) <= len(members) {
		return
	}
	slices.SortFunc(servers, func(a, b Server) int { return strings.Compare(a.ID, b.ID) })
	n.r.log.Info("raft: bootstrapping", "voters", len(servers), "members", len(members))
	if err := n.r.Bootstrap(servers); err != nil {
		n.r.log.Warn("raft: bootstrap failed", "err", err)
	}
}

// addMembers adds, on the leader, the reachable members that are not
// voters yet; it reports whether every listed member is one already.
func (n *nodeReplica) addMembers(ctx context.Context, members []raftengine.Member) (complete bool) {
	voters, err := n.r.Voters()
	if err != nil {
		return false
	}
	if len(voters) == len(members) {
		return true
	}
	for _, s := range n.reachable(ctx, members, voters) {
		if err := n.r.AddVoter(ctx, s.ID, s.Addr); err != nil {
			n.r.log.Warn("raft: adding a member failed", "member", s.ID, "err", err)
			continue
		}
		n.r.log.Info("raft: member added", "member", s.ID, "addr", s.Addr)
	}
	return false
}

// reachable are the listed members, but those in skip, whose nodes are
// live peers telling their Raft address; this replica is always one.
func (n *nodeReplica) reachable(ctx context.Context, members []raftengine.Member, skip []string) []Server {
	var out []Server
	for _, m := range members {
		if slices.Contains(skip, m.ID) {
			continue
		}
		if m.ID == n.r.self.ID {
			out = append(out, Server{ID: m.ID, Addr: n.r.Addr()})
			continue
		}
		if addr, err := n.raftAddr(ctx, m.ID); err == nil {
			out = append(out, Server{ID: m.ID, Addr: addr})
		}
	}
	return out
}

// raftAddr asks member id's node (a live peer) for its Raft address.
func (n *nodeReplica) raftAddr(ctx context.Context, id string) (string, error) {
	addr, err := n.dir.httpAddr(id)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	var st api.Stats
	if err := client.New(addr, n.hc).Get(ctx, "/v1/chains/"+n.r.chain.ID().String()+"/stats", &st); err != nil {
		return "", err
	}
	if st.Raft == nil || st.Raft.ID != id || st.Raft.Addr == "" {
		return "", fmt.Errorf("node %s does not run member %s", addr, id)
	}
	return st.Raft.Addr, nil
}
