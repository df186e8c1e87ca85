package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/replica"
)

// member is the producer of an ordered chain (raft, later bft) on one of
// its members: a replica of the chain's log, opened through the engine's
// replica.Open, is the only writer of the chain; transactions go to it and
// the call returns once they are committed.
type member struct {
	l   *ledger
	rep replica.Replica
}

// openMember opens the replica of an ordered chain this node is a member
// of, in DATA_DIR/<engine>/<chain id>.
func (l *ledger) openMember(engine string, reg prometheus.Registerer) (*member, error) {
	n := l.node
	open, ok := n.engines.Replicas[engine]
	if !ok {
		return nil, fmt.Errorf("node: engine %s orders quants but has no replica", engine)
	}
	dir := filepath.Join(n.cfg.DataDir, engine, l.st.ID().String())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node: %s dir: %w", engine, err)
	}
	host, _, _ := net.SplitHostPort(n.advertise)
	m := &member{l: l}
	rep, err := open(replica.Config{
		Dir: dir, Store: l.st, Key: n.key, Host: host, Bind: n.cfg.RaftAddr, Peers: directory{l},
		OnCommit: m.committed, Logger: n.log, Registerer: reg,
		CommitTimeout: time.Duration(n.cfg.RaftCommitTimeout), MaxInFlight: n.cfg.RaftInFlight,
		SnapshotInterval: time.Duration(n.cfg.RaftSnapshotInterval), SnapshotEntries: uint64(n.cfg.RaftSnapshotEntries),
	})
	if err != nil {
		return nil, err
	}
	m.rep = rep
	return m, nil
}

// committed is told of each quant the log adds (on the replica's
// goroutine): metrics and subscribers, as for any committed quant.
func (m *member) committed(q *quant.Quant) {
	m.l.counted(q)
	m.l.publish(q)
}

// fromPeers: a member takes neither: its log is the chain's only source.
func (m *member) fromPeers() (txs, quants bool) { return false, false }

func (m *member) status() *api.RaftStatus { return m.rep.Status() }

func (m *member) run(ctx context.Context) error { return m.rep.Run(ctx) }

func (m *member) close() error { return m.rep.Close() }

func (m *member) leap(context.Context) (*quant.Quant, error) {
	return nil, fmt.Errorf("%w: an ordered chain's leader cuts quants by size and time: submit transactions instead", httpapi.ErrNotSupported)
}

// submit orders the transactions the chain admits and returns once they
// are committed, with one error per transaction: those the chain refuses
// at admission get their own; a failure of the whole submission is every
// submitted one's, but for those the chain holds by then (a batch may be
// committed in part).
func (m *member) submit(ctx context.Context, txs []*quant.Tx) ([]quant.Hash, []error) {
	l := m.l
	ids := quant.TxIDs(txs)
	errs := l.chain.CheckTxs(txs, ids)
	var ok []*quant.Tx
	var at []int
	for i, err := range errs {
		if err == nil {
			ok, at = append(ok, txs[i]), append(at, i)
		}
	}
	if len(ok) == 0 {
		return ids, errs
	}
	err := m.rep.Submit(ctx, ok)
	if err == nil {
		return ids, errs
	}
	if errors.Is(err, replica.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %v", httpapi.ErrRetry, err)
	}
	for _, i := range at {
		if has, herr := l.st.HasTx(ids[i]); herr == nil && has {
			continue
		}
		errs[i] = err
	}
	return ids, errs
}

// directory finds members' nodes among the chain's live peers.
type directory struct{ l *ledger }

// Addr is the API address of the live peer whose node key is key.
func (d directory) Addr(key ed25519.PublicKey) (string, bool) {
	want := peer.IDOf(key)
	for _, p := range d.l.p2p.Peers() {
		if p.ID == want && p.State == peer.StateLive {
			return p.Addr, true
		}
	}
	return "", false
}

// observer is the producer of an ordered chain on a node that is not one
// of its members: it follows the chain by peer sync and takes no
// transactions (only members order them: one pooled here would never be
// committed).
type observer struct{ l *ledger }

func (o observer) refusal() error {
	return fmt.Errorf("%w: this node only observes %s chain %s: submit to one of its members", httpapi.ErrNotSupported,
		o.l.chain.Rules().Engine, o.l.chain.ID())
}

func (o observer) submit(_ context.Context, txs []*quant.Tx) ([]quant.Hash, []error) {
	ids, errs := quant.TxIDs(txs), make([]error, len(txs))
	for i := range errs {
		errs[i] = o.refusal()
	}
	return ids, errs
}

func (o observer) leap(context.Context) (*quant.Quant, error) { return nil, o.refusal() }

func (o observer) run(context.Context) error { return nil }

// fromPeers: an observer syncs quants but pools no transactions.
func (o observer) fromPeers() (txs, quants bool) { return false, true }

func (o observer) status() *api.RaftStatus { return nil }

func (o observer) close() error { return nil }
