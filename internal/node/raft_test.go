package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestRaftChain: a raft chain made on one node of three, whose members are
// the three nodes, bootstraps itself, commits what is submitted at any
// node, goes on when the leader's node stops under load with every
// acknowledged transaction committed exactly once, and the stopped node
// catches up when it returns.
func TestRaftChain(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c)
	created := createRaftChain(t, nodes[0], "orders", nodeKey(nodes[0]), nodeKey(nodes[1]), nodeKey(nodes[2]))
	id := created.Chain.ID()
	leaderOf := func(live []*Node) int {
		for i, n := range live {
			l := n.ledger(id)
			if l == nil || l.RaftStatus() == nil {
				return -1
			}
			if st := l.RaftStatus(); st.State == "Leader" {
				return i
			}
		}
		return -1
	}
	eventually(t, "the members bootstrap and elect a leader", 30*time.Second, func() bool { return leaderOf(nodes) >= 0 })
	if f := created.Chain.Finality(); f != "final" {
		t.Fatalf("a raft chain's finality is %q", f)
	}
	if f := nodes[0].Chain().Finality(); f != "depth" {
		t.Fatalf("a pow chain's finality is %q", f)
	}
	if _, body := getMetrics(t, nodes[1]); !strings.Contains(body, `qbc_raft_commit_index{chain="`+id.String()+`"}`) {
		t.Fatal("/metrics lacks the raft series of the chain")
	}

	var (
		mu    sync.Mutex
		acked []quant.Hash
		nonce atomic.Uint64
	)
	submit := func(ctx context.Context, n *Node) {
		l := n.ledger(id)
		for ctx.Err() == nil {
			tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: nonce.Add(1), Kind: quant.DataJSON, Data: []byte(`{"o":1}`)}
			txid, err := l.Submit(t.Context(), tx)
			if err == nil {
				mu.Lock()
				acked = append(acked, txid)
				mu.Unlock()
			}
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	// Load at every node, then stop the leader's node.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	leader := leaderOf(nodes)
	for _, n := range nodes {
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); submit(ctx, n) }()
		}
	}
	eventually(t, "transactions commit", 20*time.Second, func() bool { return count() >= 100 })
	var survivors []*Node
	for i, n := range nodes {
		if i != leader {
			survivors = append(survivors, n)
		}
	}
	// Stop the leader's submitters with the node: their calls fail.
	c.stop(leader)
	before := count()
	eventually(t, "a new leader goes on", 30*time.Second, func() bool {
		return leaderOf(survivors) >= 0 && count() >= before+100
	})
	cancel()
	wg.Wait()

	// Every acknowledged transaction is committed once on both survivors.
	eventually(t, "the survivors agree", 10*time.Second, func() bool {
		return survivors[0].ledger(id).chain.Tip().Hash == survivors[1].ledger(id).chain.Tip().Hash
	})
	for _, n := range survivors {
		st := n.ledger(id).st
		for _, txid := range acked {
			if ok, err := st.HasTx(txid); !ok || err != nil {
				t.Fatalf("acknowledged transaction %s is not committed (%v)", txid, err)
			}
		}
		if head := n.ledger(id).chain.Tip(); head.Meta.Txs < uint64(len(acked)) {
			t.Fatalf("the chain holds %d transactions, %d acknowledged", head.Meta.Txs, len(acked))
		}
	}
	// The stopped node comes back and catches up.
	back := c.start(leader, survivors[0].Addr())
	tip := survivors[0].ledger(id).chain.Tip().Header.Height
	eventually(t, "the stopped member catches up", 30*time.Second, func() bool {
		l := back.ledger(id)
		return l != nil && l.chain.Tip().Header.Height >= tip
	})
	t.Logf("%d transactions acknowledged, leader n%d stopped, chain at height %d", len(acked), leader, tip)
}

// TestRaftMemberJoins: a raft chain listing four members starts with the
// three that are up (a majority); when the fourth node comes up it follows
// the chain, the leader adds it as a voter, and it catches up.
func TestRaftMemberJoins(t *testing.T) {
	c := newCluster(t)
	// Make the fourth node's key first, then stop it.
	late := c.start(0)
	lateKey := nodeKey(late)
	c.stop(0)
	nodes := []*Node{c.start(1)}
	nodes = append(nodes, c.start(2, nodes[0].Addr()), c.start(3, nodes[0].Addr()))
	eventually(t, "the network connects", 10*time.Second, func() bool { return livePeers(nodes[0]) == 2 })
	created := createRaftChain(t, nodes[0], "four", nodeKey(nodes[0]), nodeKey(nodes[1]), nodeKey(nodes[2]), lateKey)
	id := created.Chain.ID()
	for i := 0; i < 20; i++ {
		n := nodes[i%3]
		eventually(t, "the node follows the chain", 10*time.Second, func() bool { return n.ledger(id) != nil })
		l := n.ledger(id)
		if _, err := l.Submit(t.Context(), &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(`{"a":1}`)}); err != nil {
			t.Fatalf("three of four members commit: %v", err)
		}
	}
	height := nodes[0].ledger(id).chain.Tip().Header.Height
	late = c.start(0, nodes[0].Addr())
	eventually(t, "the fourth member is added and catches up", 30*time.Second, func() bool {
		l := late.ledger(id)
		if l == nil || l.RaftStatus() == nil || l.chain.Tip().Header.Height < height {
			return false
		}
		return len(nodes[0].ledger(id).RaftStatus().Voters) == 4 || len(nodes[1].ledger(id).RaftStatus().Voters) == 4
	})
	// The fourth member takes transactions too.
	if _, err := late.ledger(id).Submit(t.Context(), &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: 99, Kind: quant.DataJSON, Data: []byte(`{"a":2}`)}); err != nil {
		t.Fatalf("a submission at the new member: %v", err)
	}
}

// TestRaftObserver: a node that is not a member of a raft chain follows it
// by peer sync, and refuses transactions for it (only members propose)
// instead of pooling them forever.
func TestRaftObserver(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c)
	created := createRaftChain(t, nodes[0], "pair", nodeKey(nodes[0]), nodeKey(nodes[1]))
	id := created.Chain.ID()
	eventually(t, "the observer follows the chain", 15*time.Second, func() bool { return nodes[2].ledger(id) != nil })
	obs := nodes[2].ledger(id)
	if obs.RaftStatus() != nil {
		t.Fatal("the observer runs a replica")
	}
	tx := func(i int) *quant.Tx {
		return &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: uint64(i), Kind: quant.DataJSON, Data: []byte(`{"a":1}`)}
	}
	if _, err := obs.Submit(t.Context(), tx(1)); !errors.Is(err, httpapi.ErrNotSupported) {
		t.Fatalf("a submission at the observer: %v, want not_supported", err)
	}
	if obs.pool.Len() != 0 {
		t.Fatal("the observer pooled a transaction")
	}
	eventually(t, "the members elect a leader", 20*time.Second, func() bool {
		return nodes[0].ledger(id).RaftStatus().Leader != ""
	})
	for i := range 5 {
		if _, err := nodes[i%2].ledger(id).Submit(t.Context(), tx(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	tip := nodes[0].ledger(id).chain.Tip().Hash
	eventually(t, "the observer syncs the members' chain", 20*time.Second, func() bool { return obs.chain.Tip().Hash == tip })
}

// nodeKey is a node's public key in hex, as a poa chain's authorities and
// a raft chain's members name it.
func nodeKey(n *Node) string { return hex.EncodeToString(n.key.Public().(ed25519.PublicKey)) }

// startThree starts three connected nodes.
func startThree(t *testing.T, c *cluster) []*Node {
	t.Helper()
	nodes := []*Node{c.start(0)}
	nodes = append(nodes, c.start(1, nodes[0].Addr()), c.start(2, nodes[0].Addr()))
	eventually(t, "the network connects", 10*time.Second, func() bool { return livePeers(nodes[0]) == 2 })
	return nodes
}

// createRaftChain makes, on n, a raft chain whose members n0, n1, ... have
// these node keys, cutting quants every 5 ms.
func createRaftChain(t *testing.T, n *Node, name string, keys ...string) *httpapi.Ledger {
	t.Helper()
	members := make([]string, len(keys))
	for i, k := range keys {
		members[i] = fmt.Sprintf(`{"id":"n%d","key":%q}`, i, k)
	}
	r, err := quant.ParseRules(fmt.Appendf(nil, `{"name":%q,"created":1700000000000,"engine":"raft",
		"engine_params":{"members":[%s],"max_quant_interval_ms":5},
		"write_policy":"open","max_data_bytes":1024,"max_quant_txs":1000,"max_quant_bytes":2097152,
		"max_time_drift_ms":120000}`, name, strings.Join(members, ",")))
	if err != nil {
		t.Fatal(err)
	}
	created, err := n.CreateChain(t.Context(), &r)
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// TestRaftMembersByAddress: a raft chain created over the API naming its
// members by their nodes' addresses lists their keys (fetched from GET
// /v1/node), its member on a node with raft_addr binds there, and a
// submission at a member answers once committed, saying so. An address
// where no node answers is refused, naming it.
func TestRaftMembersByAddress(t *testing.T) {
	c := newCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raftAddr := ln.Addr().String() // free once closed
	ln.Close()
	c.configure = func(cfg *Config) {
		if filepath.Base(cfg.DataDir) == "n1" {
			cfg.RaftAddr = raftAddr
		}
	}
	nodes := startThree(t, c)
	ctx := t.Context()
	cl := client.New(nodes[0].Addr(), nil)
	made, err := cl.CreateChain(ctx, fmt.Appendf(nil, `{"name":"by-address","engine":"raft","engine_params":{"members":[
		{"addr":%q},{"addr":%q,"id":"b"},{"addr":%q}]}}`, nodes[0].Addr(), nodes[1].Addr(), nodes[2].Addr()))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		EngineParams struct {
			Members []map[string]string `json:"members"`
		} `json:"engine_params"`
	}
	if err := json.Unmarshal(made.Rules, &rules); err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{"id": "m0", "key": nodeKey(nodes[0])}, {"id": "b", "key": nodeKey(nodes[1])}, {"id": "m2", "key": nodeKey(nodes[2])}}
	if !reflect.DeepEqual(rules.EngineParams.Members, want) {
		t.Fatalf("members %v, want %v", rules.EngineParams.Members, want)
	}
	id := made.ID
	eventually(t, "every member runs its replica", 20*time.Second, func() bool {
		for _, n := range nodes {
			if l := n.ledger(id); l == nil || l.RaftStatus() == nil {
				return false
			}
		}
		return true
	})
	if got := nodes[1].ledger(id).RaftStatus().Addr; got != raftAddr {
		t.Fatalf("the member on the node with raft_addr %s binds %s", raftAddr, got)
	}
	info, err := client.New(nodes[1].Addr(), nil).Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != nodeKey(nodes[1]) || info.Addr != nodes[1].Addr() || len(info.Replicas) != 1 ||
		info.Replicas[0] != (api.NodeReplica{Chain: id, Engine: "raft", Member: "b", Addr: raftAddr}) {
		t.Fatalf("GET /v1/node: %+v", info)
	}
	// At every member, leader or not: committed when answered.
	for i, n := range nodes {
		sub, err := client.New(n.Addr(), nil).OnChain(id).Inject(ctx, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil || sub.Status != "committed" {
			t.Fatalf("inject at member %d: %+v, %v", i, sub, err)
		}
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := ln.Addr().String()
	ln.Close()
	_, err = cl.CreateChain(ctx, fmt.Appendf(nil, `{"name":"nobody","engine":"raft","engine_params":{"members":[{"addr":%q},{"addr":%q}]}}`,
		nodes[0].Addr(), nobody))
	var se *client.StatusError
	if !errors.As(err, &se) || se.StatusCode != 422 || se.Err.Err.Code != string(quant.CodeBadRules) || !strings.Contains(se.Err.Err.Message, nobody) {
		t.Fatalf("a member where no node answers: %v", err)
	}
}
