package raftchain

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"runtime"
	"sync"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	raftengine "github.com/qbc-chain/qbc/internal/consensus/raft"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestSubmitAtAnyMember: transactions submitted at each of three members
// (leader and followers, concurrently) are committed, once, at all.
func TestSubmitAtAnyMember(t *testing.T) { inFlight(t, testSubmitAtAnyMember) }

// inFlight runs test with one quant in flight at a time and with a
// pipeline of four.
func inFlight(t *testing.T, test func(t *testing.T, tune func(*Config))) {
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprintf("in_flight_%d", n), func(t *testing.T) {
			test(t, func(cfg *Config) { cfg.MaxInFlight = n })
		})
	}
}

func testSubmitAtAnyMember(t *testing.T, tune func(*Config)) {
	c := newCluster(t, 3, tune)
	c.startVoters(3)
	c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var (
		wg    sync.WaitGroup
		acked collector
	)
	for i := range 3 {
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.members[i].r
				for range 10 {
					txs := c.txs(1 + g*4)
					if err := r.Submit(ctx, txs); err != nil {
						t.Errorf("member %d: Submit: %v", i, err)
						return
					}
					// Submit returned: this member's chain has them.
					for _, id := range idsOf(txs) {
						if has, err := c.members[i].st.HasTx(id); err != nil || !has {
							t.Errorf("member %d: acknowledged transaction %s not in its chain (%v)", i, id, err)
						}
					}
					acked.add(idsOf(txs)...)
				}
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	c.converged(1)
	c.checkOnce(acked.all())
	if got, want := acked.len(), 3*10*(1+5); got != want {
		t.Fatalf("%d transactions acknowledged, want %d", got, want)
	}
	// A transaction submitted again is already committed: success, and
	// still once.
	again := c.txs(3)
	if err := c.members[1].r.Submit(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := c.members[2].r.Submit(ctx, again); err != nil {
		t.Fatalf("Submit of committed transactions: %v", err)
	}
	c.converged(1)
	c.checkOnce(append(acked.all(), idsOf(again)...))
	// A transaction the chain refuses fails the call with its rule code.
	bad := c.txs(2)
	bad[1].ChainID[0] ^= 1
	if err := c.members[0].r.Submit(ctx, bad); quant.CodeOf(err) != quant.CodeWrongChain {
		t.Fatalf("Submit with a transaction for another chain: %v, want code %s", err, quant.CodeWrongChain)
	}
	if has, _ := c.members[0].st.HasTx(bad[0].ID()); has {
		t.Fatal("a call refused for one transaction committed another")
	}
	st := c.members[0].r.Stats()
	if st.Leader == "" || st.Height == 0 || st.Term == 0 || st.CommitIndex == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPipeline: with quants of two transactions and forty submitted at
// once, the leader has several quants in flight, each built on the one
// before, and every transaction is committed once on every member.
func TestPipeline(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.MaxInFlight = 4 })
	c.bang = newBang(t, c.keys, func(p *raftengine.Params) { p.MaxQuantTxs = 2 })
	c.startVoters(3)
	lead := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	txs := c.txs(40)
	if err := lead.r.Submit(ctx, txs); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	c.converged(20)
	c.checkOnce(idsOf(txs))
	var m dto.Metric
	if err := lead.r.metrics.inFlight.Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if one := h.GetBucket()[0].GetCumulativeCount(); h.GetSampleCount() < 20 || one == h.GetSampleCount() {
		t.Fatalf("%d quants proposed, %d of them with none other in flight: no pipeline", h.GetSampleCount(), one)
	}
}

// TestLeaderFailover: the leader is shut down while goroutines submit at
// every member; a new leader goes on, and every transaction whose Submit
// succeeded is exactly once on both survivors.
func TestLeaderFailover(t *testing.T) { inFlight(t, testLeaderFailover) }

func testLeaderFailover(t *testing.T, tune func(*Config)) {
	c := newCluster(t, 3, tune)
	c.startVoters(3)
	old := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()

	var (
		acked    collector
		failures collector
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	replicas := make([]*Replica, 3)
	for i, m := range c.members {
		replicas[i] = m.r
	}
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				r := replicas[k%3]
				txs := c.txs(1 + k%3)
				cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
				err := r.Submit(cctx, txs)
				ccancel()
				switch {
				case err == nil:
					acked.add(idsOf(txs)...)
				case errors.Is(err, ErrClosed):
					failures.add(idsOf(txs)...) // submitted at the stopped leader
				default:
					t.Errorf("Submit at %s: %v", r.ID(), err)
					return
				}
			}
		}()
	}
	waitFor(t, 10*time.Second, "200 transactions before the stop", func() bool { return acked.len() >= 200 })
	before := acked.len()
	c.stop(old.i)
	next := c.leader()
	if next == old {
		t.Fatal("the stopped member still leads")
	}
	waitFor(t, 15*time.Second, "200 more transactions after the stop", func() bool { return acked.len() >= before+200 })
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	c.converged(1)
	c.checkOnce(acked.all())
	// The old leader comes back as a follower and catches up.
	c.start(old.i)
	c.converged(next.r.Chain().Tip().Header.Height)
	c.checkOnce(acked.all())
	t.Logf("acknowledged %d (%d before the stop), %d refused by the stopped member; new leader %s",
		acked.len(), before, failures.len(), next.r.ID())
}

// TestFollowerRestart: a follower stopped while the others commit catches
// up when it starts again, and then serves Submit.
func TestFollowerRestart(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.startVoters(3)
	lead := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var acked []quant.Hash
	submit := func(r *Replica, n int) {
		t.Helper()
		for range n {
			txs := c.txs(3)
			if err := r.Submit(ctx, txs); err != nil {
				t.Fatalf("Submit at %s: %v", r.ID(), err)
			}
			acked = append(acked, idsOf(txs)...)
		}
	}
	submit(lead.r, 5)
	follower := c.members[(lead.i+1)%3]
	other := c.members[(lead.i+2)%3]
	c.converged(1)
	c.stop(follower.i)
	submit(lead.r, 10)
	submit(other.r, 10)
	height := lead.r.Chain().Tip().Header.Height

	c.start(follower.i)
	c.converged(height)
	if st := follower.r.Stats(); st.Halted != nil || st.Restores != 0 {
		t.Fatalf("restarted follower: %+v", st)
	}
	submit(follower.r, 5)
	c.converged(height + 1)
	c.checkOnce(acked)
}

// TestAddVoterFromSnapshot: with the leader's log compacted behind a
// snapshot, a fourth member added with AddVoter catches up from the
// snapshot (the marker expanded into the chain's quants), then takes part.
func TestAddVoterFromSnapshot(t *testing.T) {
	c := newCluster(t, 4, func(cfg *Config) {
		cfg.SnapshotThreshold = 4
		cfg.TrailingLogs = 2
		// Small segments, so that compaction deletes the ones behind
		// the snapshot (raft-wal drops whole segments only).
		cfg.LogSegmentBytes = 4096
	})
	c.startVoters(3)
	lead := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var acked []quant.Hash
	for range 20 {
		txs := c.txs(2)
		if err := lead.r.Submit(ctx, txs); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, idsOf(txs)...)
	}
	c.converged(1)
	// Snapshot every member now (rather than wait for the interval), so
	// the log the new member would need is gone.
	for _, m := range c.running() {
		if err := m.r.raft.Snapshot().Error(); err != nil && !errors.Is(err, hraft.ErrNothingNewToSnapshot) {
			t.Fatalf("snapshot of member %d: %v", m.i, err)
		}
	}
	first, err := lead.r.logs.FirstIndex()
	if err != nil || first <= 1 {
		t.Fatalf("leader's log starts at %d (%v): not compacted", first, err)
	}

	// Membership changes go to the leader of the moment: under load (-race
	// on a shared machine) an election may move it during the test.
	newbie := c.start(3)
	if err := c.leader().r.AddVoter(ctx, newbie.ID(), newbie.Addr()); err != nil {
		t.Fatalf("AddVoter: %v", err)
	}
	c.converged(lead.r.Chain().Tip().Header.Height)
	// Restore counts a snapshot once its last quant is in the chain, so the
	// tips can agree a moment before the count moves: wait for it.
	waitFor(t, 5*time.Second, "the new member's snapshot restore", func() bool {
		return newbie.Stats().Restores > 0
	})
	// The new member submits, and its quants reach everyone.
	txs := c.txs(4)
	if err := newbie.Submit(ctx, txs); err != nil {
		t.Fatalf("Submit at the new member: %v", err)
	}
	acked = append(acked, idsOf(txs)...)
	c.converged(1)
	c.checkOnce(acked)
	conf := lead.r.raft.GetConfiguration()
	if err := conf.Error(); err != nil || len(conf.Configuration().Servers) != 4 {
		t.Fatalf("configuration %+v (%v), want 4 servers", conf.Configuration(), err)
	}
	// Only listed members may join.
	if err := c.leader().r.AddVoter(ctx, "stranger", "127.0.0.1:1"); !errors.Is(err, ErrNotMember) {
		t.Fatalf("AddVoter of an unlisted id: %v", err)
	}
	// And the new member can be removed again.
	if err := c.leader().r.RemoveServer(ctx, newbie.ID()); err != nil {
		t.Fatalf("RemoveServer: %v", err)
	}
}

// TestRefusedEntries: a quant sealed by a key that is not a member's, one
// whose header was changed after sealing, and one sealed for another log
// position are refused by every member alike (VerifySeal, checkPosition);
// the chain goes on.
func TestRefusedEntries(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.startVoters(3)
	lead := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := lead.r.Submit(ctx, c.txs(2)); err != nil {
		t.Fatal(err)
	}
	c.converged(1)
	height := lead.r.Chain().Tip().Header.Height

	// outsider: a chain whose only member, m0, has a key no member of
	// ours has; its seals name member 0.
	outsiderKey := memberKeys(9)[8]
	outsiderBang := newBang(t, []ed25519.PrivateKey{outsiderKey}, nil)
	outsiderRules, err := quant.CheckBang(outsiderBang)
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := raftengine.New(outsiderRules, outsiderKey)
	if err != nil {
		t.Fatal(err)
	}

	propose := func(seal func(q *quant.Quant, term, index uint64)) (uint64, error) {
		t.Helper()
		r := lead.r
		q, _, err := r.chain.Template(c.txs(1), nil)
		if err != nil {
			t.Fatal(err)
		}
		r.applyMu.Lock()
		defer r.applyMu.Unlock()
		index := r.raft.LastIndex() + 1
		seal(q, r.raft.CurrentTerm(), index)
		f := r.raft.Apply(EncodeEntry(q), time.Second)
		if err := f.Error(); err != nil {
			t.Fatalf("raft apply: %v", err)
		}
		res, _ := f.Response().(applyResult)
		return index, res.err
	}
	cases := []struct {
		name  string
		seal  func(q *quant.Quant, term, index uint64)
		check func(error) bool
	}{
		{"non-member", func(q *quant.Quant, term, index uint64) {
			parent := lead.r.Chain().Tip().Header
			if err := outsider.Prepare(nil, &parent, &q.Header); err != nil {
				t.Fatal(err)
			}
			if err := raftengine.SetPosition(&q.Header, term, index); err != nil {
				t.Fatal(err)
			}
			if err := outsider.Seal(ctx, &q.Header); err != nil {
				t.Fatal(err)
			}
		}, func(err error) bool { return quant.CodeOf(err) == quant.CodeBadSeal }},
		{"tampered", func(q *quant.Quant, term, index uint64) {
			if err := raftengine.SetPosition(&q.Header, term, index); err != nil {
				t.Fatal(err)
			}
			if err := lead.r.engine.Seal(ctx, &q.Header); err != nil {
				t.Fatal(err)
			}
			q.Header.Time++ // after sealing
		}, func(err error) bool { return quant.CodeOf(err) == quant.CodeBadSeal }},
		{"wrong position", func(q *quant.Quant, term, index uint64) {
			if err := raftengine.SetPosition(&q.Header, term, index+1); err != nil {
				t.Fatal(err)
			}
			if err := lead.r.engine.Seal(ctx, &q.Header); err != nil {
				t.Fatal(err)
			}
		}, func(err error) bool { return errors.Is(err, errPosition) }},
	}
	for _, tc := range cases {
		index, err := propose(tc.seal)
		if !tc.check(err) {
			t.Fatalf("%s: leader's FSM answered %v", tc.name, err)
		}
		for _, m := range c.running() {
			waitFor(t, 10*time.Second, "the entry applied everywhere", func() bool { return m.r.raft.AppliedIndex() >= index })
			if h := m.r.Chain().Tip().Header.Height; h != height {
				t.Fatalf("%s: member %d is at height %d, want %d", tc.name, m.i, h, height)
			}
		}
	}
	// The chain goes on.
	txs := c.txs(2)
	if err := c.members[(lead.i+1)%3].r.Submit(ctx, txs); err != nil {
		t.Fatal(err)
	}
	c.converged(height + 1)
	c.checkOnce(idsOf(txs))
}

// TestCloseLeavesNoGoroutines: closing every member ends every goroutine
// the replicas and Raft started (a stand-in for goleak, which the module
// does not depend on).
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	c := newCluster(t, 3, nil)
	c.startVoters(3)
	c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range c.members {
		if err := m.r.Submit(ctx, c.txs(3)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.members {
		c.stop(m.i)
	}
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestFollowersLearnCommitsAtOnce: with a commit timeout of an hour, a
// follower still applies each quant as soon as the leader knows it is
// committed (the leader's nudge), so a Submit at a follower, which returns
// once the follower's chain holds the transactions, returns at once; and
// an idle leader sends nothing for the commit timeout's sake.
func TestFollowersLearnCommitsAtOnce(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.CommitTimeout = time.Hour })
	c.startVoters(3)
	lead := c.leader()
	follower := c.members[(lead.i+1)%3]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 5 {
		txs := c.txs(2)
		if err := follower.r.Submit(ctx, txs); err != nil {
			t.Fatalf("Submit at a follower with an hour's commit timeout: %v", err)
		}
		for _, id := range idsOf(txs) {
			if has, err := follower.st.HasTx(id); err != nil || !has {
				t.Fatalf("acknowledged transaction %s not in the follower's chain (%v)", id, err)
			}
		}
	}
	c.converged(5)
	// The follower timed each forward and its catching up after it; the
	// leader forwarded nothing.
	for _, h := range []struct {
		name string
		m    *member
		want uint64
	}{
		{"follower's forwards", follower, 5}, {"leader's forwards", lead, 0},
	} {
		for _, hist := range []prometheus.Histogram{h.m.r.metrics.forwardSecs, h.m.r.metrics.catchUpSecs} {
			var m dto.Metric
			if err := hist.Write(&m); err != nil {
				t.Fatal(err)
			}
			if got := m.GetHistogram().GetSampleCount(); got != h.want {
				t.Fatalf("%s: %d samples of %s, want %d", h.name, got, hist.Desc(), h.want)
			}
		}
	}
}

// silentFuture is a Raft future that gives no answer until released: what
// hashicorp/raft leaves an Apply whose entry it committed just as it shut
// down.
type silentFuture struct {
	asked   chan struct{} // receives when Error is called
	release chan struct{}
}

func (f silentFuture) Error() error {
	f.asked <- struct{}{}
	<-f.release
	return hraft.ErrRaftShutdown
}

// TestCloseDoesNotWaitForSilentFutures: a future Raft never answers holds
// neither a caller of await nor Close. (Close once waited for every
// goroutine that waited for a future, and a leader's quant whose future
// got no answer as its member stopped held TestLeaderFailover for ten
// minutes.)
func TestCloseDoesNotWaitForSilentFutures(t *testing.T) {
	c := newCluster(t, 1, nil)
	c.startVoters(1)
	m := c.leader()
	f := silentFuture{asked: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(func() { close(f.release) })
	awaited := make(chan error, 1)
	go func() { awaited <- m.r.await(context.Background(), f) }()
	<-f.asked // await waits for the future before Close begins
	closed := make(chan error, 1)
	go func() { closed <- m.r.Close() }()
	for _, ch := range []chan error{awaited, closed} {
		select {
		case err := <-ch:
			if ch == awaited && !errors.Is(err, ErrClosed) {
				t.Fatalf("await of a silent future at Close: %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a future Raft never answers held await or Close")
		}
	}
}
