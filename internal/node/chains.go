package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/consensus"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
)

// The node as the API's registry of chains (httpapi.Chains).

// Default is the default chain.
func (n *Node) Default() *httpapi.Ledger { return n.def().api }

// Ledger returns a followed chain.
func (n *Node) Ledger(id quant.Hash) (*httpapi.Ledger, bool) {
	if l := n.ledger(id); l != nil {
		return l.api, true
	}
	return nil, false
}

// Ledgers lists the followed chains, the default first.
func (n *Node) Ledgers() []*httpapi.Ledger {
	ls := n.ledgers()
	out := make([]*httpapi.Ledger, len(ls))
	for i, l := range ls {
		out[i] = l.api
	}
	return out
}

// CreateChain makes a bang from rules, stores it, follows the new chain
// and offers it to this node's peers, who follow it where their
// configuration allows.
func (n *Node) CreateChain(ctx context.Context, rules *quant.Rules) (*httpapi.Ledger, error) {
	if err := n.resolveParams(ctx, rules); err != nil {
		return nil, err
	}
	bang, err := quant.NewBang(*rules)
	if err != nil {
		return nil, err
	}
	if rules.Parent != nil {
		if err := n.checkForkPoint(rules.Parent); err != nil {
			return nil, err
		}
	}
	// Made here, it is one of this node's own chains: mined with Mine.
	// Marked before it is followed, so that following starts the mining.
	id := bang.Hash()
	n.mu.Lock()
	wasMarked := n.mu.mined[id]
	if err := n.markMined(id); err != nil {
		n.log.Warn("could not record the chain as made here", "err", err)
	}
	n.mu.Unlock()
	l, created, err := n.followBang(bang, n.cfg.Peers)
	if err != nil || !created {
		if !wasMarked {
			n.mu.Lock()
			if err := n.unmarkMined(id); err != nil {
				n.log.Warn("could not record the chain as not made here", "err", err)
			}
			n.mu.Unlock()
		}
		if err != nil {
			return nil, err
		}
		return nil, quant.Errorf(quant.CodeDuplicate, "this node already follows chain %s (%s)", id, rules.Name)
	}
	n.followedAgain(id)
	n.log.Info("chain created", "chain", id.String(), "name", rules.Name, "engine", rules.Engine)
	// Peers learn of it from this node's hello.
	for _, o := range n.ledgers() {
		n.task("hello", func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, peerTimeout)
			defer cancel()
			o.p2p.Rehello(ctx)
		})
	}
	return l.api, nil
}

// followBang stores a chain's bang if new and follows the chain; created
// is false when the node followed it already.
func (n *Node) followBang(bang *quant.Quant, bootstrap []string) (_ *ledger, created bool, err error) {
	n.followMu.Lock()
	defer n.followMu.Unlock()
	if l := n.ledger(bang.Hash()); l != nil {
		return l, false, nil
	}
	n.mu.Lock()
	following, leaving := len(n.mu.ledgers), n.mu.leaving[bang.Hash()]
	n.mu.Unlock()
	if leaving {
		return nil, false, fmt.Errorf("%w: this node is leaving chain %s", httpapi.ErrRetry, bang.Hash())
	}
	if following >= n.cfg.MaxChains {
		return nil, false, quant.Errorf(quant.CodeLimitExceeded, "this node follows %d chains, its limit (max_chains)", n.cfg.MaxChains)
	}
	st := n.db.Chain(bang.Hash())
	if err := chain.Init(st, bang, n.engines.Consensus(n.key)); err != nil {
		return nil, false, err
	}
	l, err := n.follow(st, bootstrap)
	return l, err == nil, err
}

// offered handles the chains a peer at addr follows (from its hello): on
// chains this node follows too, the peer becomes a peer there; chains this
// node lacks it follows, unless its configuration says not to, after
// fetching the bang from the peer and checking it hashes to the id. It
// does not follow chains left here, nor more than offerLimit lets one
// peer make it follow, nor past max_chains: those it logs and ignores.
func (n *Node) offered(ctx context.Context, addr string, ids []quant.Hash) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var limited, full []string
	defer func() {
		if len(limited) > 0 {
			n.log.Warn("offered chains not followed: over the limit of chains one peer may make this node follow",
				"peer", addr, "count", len(limited), "chains", limited[:min(len(limited), 8)], "limit", offersPerPeer, "per", offerWindow.String())
		}
		if len(full) > 0 {
			n.log.Warn("offered chains not followed: this node follows max_chains chains",
				"peer", addr, "count", len(full), "chains", full[:min(len(full), 8)], "max_chains", n.cfg.MaxChains)
		}
	}()
	for _, id := range ids {
		if l := n.ledger(id); l != nil {
			if !l.p2p.Knows(addr) {
				if _, err := l.p2p.Discover(ctx, addr); err != nil {
					l.log.Debug("peer on a shared chain not reached", "peer", addr, "err", err)
				}
			}
			continue
		}
		if n.cfg.Follow != FollowAll {
			continue
		}
		if n.isLeft(id) {
			n.log.Debug("offered chain not followed: left here", "chain", id.String(), "peer", addr)
			continue
		}
		if n.following() >= n.cfg.MaxChains {
			full = append(full, id.String())
			continue
		}
		if !n.offers.start(id) {
			continue
		}
		err := n.followOffered(ctx, addr, id, 0)
		n.offers.done(id, err)
		switch {
		case errors.Is(err, errOfferLimit):
			limited = append(limited, id.String())
		case quant.CodeOf(err) == quant.CodeLimitExceeded:
			full = append(full, id.String())
		case err != nil:
			n.log.Warn("offered chain not followed", "chain", id.String(), "peer", addr, "err", err)
		}
	}
}

// followOffered fetches chain id's bang from the node at addr and follows
// the chain, with addr as its first peer.
func (n *Node) followOffered(ctx context.Context, addr string, id quant.Hash, depth int) error {
	if n.isLeft(id) {
		return fmt.Errorf("chain %s was left here", id)
	}
	if !n.offerCap.take(addr) {
		return errOfferLimit
	}
	var c api.Chain
	if err := client.New(addr, nil).Get(ctx, "/v1/chains/"+id.String(), &c); err != nil {
		return fmt.Errorf("chain description: %w", err)
	}
	rules, err := quant.DecodeRules(c.Rules)
	if err != nil {
		return err
	}
	bang, err := quant.NewBang(*rules)
	if err != nil {
		return err
	}
	if bang.Hash() != id {
		return quant.Errorf(quant.CodeMalformed, "the rules served for chain %s make chain %s", id, bang.Hash())
	}
	// A fork needs its parent: follow that first (its history up to the
	// fork point then arrives by the parent's sync).
	if p := rules.Parent; p != nil && n.ledger(p.Chain) == nil {
		if depth == maxLineage {
			return quant.Errorf(quant.CodeBadRules, "lineage deeper than %d forks", maxLineage)
		}
		if err := n.followOffered(ctx, addr, p.Chain, depth+1); err != nil {
			return fmt.Errorf("parent chain %s: %w", p.Chain, err)
		}
	}
	_, created, err := n.followBang(bang, append([]string{addr}, n.cfg.Peers...))
	if created {
		n.log.Info("following an offered chain", "chain", id.String(), "name", rules.Name, "peer", addr)
	}
	return err
}

// errOfferLimit: the peer's offers made this node follow as many chains
// as offerLimit allows for now.
var errOfferLimit = errors.New("node: over the limit of chains one peer may make this node follow")

// following is how many chains the node follows.
func (n *Node) following() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.mu.ledgers)
}

// offerSet keeps one attempt at a time per offered chain, and does not
// retry a chain whose rules failed for a while.
type offerSet struct {
	mu     sync.Mutex
	busy   map[quant.Hash]bool
	failed map[quant.Hash]time.Time
}

// offerRetry is how long an offered chain that could not be followed is
// left alone.
const offerRetry = time.Minute

func (o *offerSet) start(id quant.Hash) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.busy == nil {
		o.busy, o.failed = map[quant.Hash]bool{}, map[quant.Hash]time.Time{}
	}
	if o.busy[id] || time.Since(o.failed[id]) < offerRetry {
		return false
	}
	o.busy[id] = true
	return true
}

func (o *offerSet) done(id quant.Hash, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.busy, id)
	if err != nil {
		o.failed[id] = time.Now()
	} else {
		delete(o.failed, id)
	}
}

// minedFile lists, one id a line, the chains made on this node, which it
// mines with Mine (beside its default chain and the poa chains it is an
// authority of); chains only offered by peers are followed, not mined.
const minedFile = "mined-chains"

// loadIDs reads a set of chain ids kept one a line in the data
// directory's file name (minedFile, leftFile); a missing file is an empty
// set.
func (n *Node) loadIDs(name string) map[quant.Hash]bool {
	out := map[quant.Hash]bool{}
	b, err := os.ReadFile(filepath.Join(n.cfg.DataDir, name))
	if err != nil {
		return out
	}
	for _, line := range strings.Fields(string(b)) {
		if id, err := quant.ParseHash(line); err == nil {
			out[id] = true
		}
	}
	return out
}

// saveIDs writes ids to the data directory's file name, as loadIDs reads
// it.
func (n *Node) saveIDs(name string, ids map[quant.Hash]bool) error {
	var b strings.Builder
	for id := range ids {
		b.WriteString(id.String() + "\n")
	}
	return atomicfile.Write(filepath.Join(n.cfg.DataDir, name), []byte(b.String()), 0o600)
}

// markMined records id as made here, in memory and in minedFile. The
// caller holds n.mu.
func (n *Node) markMined(id quant.Hash) error {
	n.mu.mined[id] = true
	return n.saveIDs(minedFile, n.mu.mined)
}

// unmarkMined undoes markMined. The caller holds n.mu.
func (n *Node) unmarkMined(id quant.Hash) error {
	delete(n.mu.mined, id)
	return n.saveIDs(minedFile, n.mu.mined)
}

// mines reports whether the node mines l: with Mine, the default chain,
// chains made here, and chains whose engine names its sealers (poa) when
// this node is one of them.
func (n *Node) mines(l *ledger) bool {
	if !n.cfg.Mine {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if l == n.mu.def || n.mu.mined[l.chain.ID()] {
		return true
	}
	_, names := l.chain.Engine().(consensus.Sealer)
	return names && l.chain.CanSeal()
}

// keyTimeout bounds fetching one node's key for a new chain's rules.
const keyTimeout = 5 * time.Second

// resolveParams fills in, through the engine's Resolve, what the engine
// parameters of a chain to create name by a node's address (a raft member
// given as {"addr"}): each such node's key, fetched from its GET /v1/node,
// so the bang holds keys only. A node that does not answer is a
// CodeBadRules RuleError naming its address.
func (n *Node) resolveParams(ctx context.Context, rules *quant.Rules) error {
	resolve := n.engines.Resolve[rules.Engine]
	if resolve == nil || len(rules.EngineParams) == 0 {
		return nil
	}
	p, err := resolve(ctx, rules.EngineParams, n.keyAt)
	if err != nil {
		return err
	}
	var v any // the canonical form, as quant.ParseRules gives it
	if err := json.Unmarshal(p, &v); err != nil {
		return quant.Errorf(quant.CodeBadRules, "engine_params: %v", err)
	}
	rules.EngineParams, _ = json.Marshal(v)
	return nil
}

// keyAt is the public key of the node whose API is at addr: this node's
// own for its own address, else what that node's GET /v1/node tells,
// within keyTimeout.
func (n *Node) keyAt(ctx context.Context, addr string) (ed25519.PublicKey, error) {
	if addr == n.advertise || addr == n.Addr() {
		return n.key.Public().(ed25519.PublicKey), nil
	}
	ctx, cancel := context.WithTimeout(ctx, keyTimeout)
	defer cancel()
	info, err := client.New(addr, nil).Node(ctx)
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(info.Key)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %q is not a hex Ed25519 public key", info.Key)
	}
	return ed25519.PublicKey(k), nil
}
