package node

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// liar is a hostile peer: it speaks the envelope protocol correctly, claims
// far more work than anyone, and serves quants whose work was never done.
type liar struct {
	key     ed25519.PrivateKey
	addr    string
	chain   quant.Hash
	served  atomic.Int64
	planned atomic.Int64
	srv     *http.Server
}

// startLiar runs a liar that names planned in its status and sync plan and
// serves bad when asked for it.
func startLiar(t *testing.T, chain quant.Hash, planned, bad *quant.Quant) *liar {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &liar{key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{66}, 32)), addr: ln.Addr().String(), chain: chain}
	status := fmt.Sprintf(`{"height":5,"tip":"%s","work":"999999999999"}`, planned.Hash())
	l.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req, err := peer.DecodeEnvelope(b)
		if err != nil {
			http.Error(w, "bad", 400)
			return
		}
		var answer []byte
		switch req.Kind {
		case peer.KindHello:
			answer = []byte(fmt.Sprintf(`{"addr":%q,"chain":"%s","status":%s,"version":"qbc/1"}`, l.addr, chain, status))
		case peer.KindStatus:
			answer = []byte(status)
		case peer.KindHashes:
			l.planned.Add(1)
			if planned != nil && bad != nil {
				h := planned.Hash()
				answer = h[:]
			}
		case peer.KindGetQuant, peer.KindGetQuants:
			l.served.Add(1)
			enc := bad.Encode()
			if req.Kind == peer.KindGetQuants {
				enc = append(binary.BigEndian.AppendUint32(nil, uint32(len(enc))), enc...)
			}
			answer = enc
		}
		rep := &peer.Envelope{To: peer.IDOf(req.From), Time: time.Now().UnixMilli(), Nonce: req.Nonce + 1, Kind: peer.KindReply, Chain: chain,
			Body: append(binary.BigEndian.AppendUint64(nil, req.Nonce), answer...)}
		rep.Sign(l.key)
		w.Write(rep.Encode())
	})}
	go l.srv.Serve(ln)
	t.Cleanup(func() { l.srv.Close() })
	return l
}

// TestHostilePeer: a peer that claims more work and serves quants without
// it, or other quants than it planned, is refused on every attempt, scored
// down and banned, and the node goes on with its honest peer.
func TestHostilePeer(t *testing.T) {
	cases := []struct {
		name string
		// bad makes what the liar plans and what it serves, on the bang.
		bad func(bang *quant.Quant) (planned, served *quant.Quant)
	}{
		{"no work", func(bang *quant.Quant) (*quant.Quant, *quant.Quant) {
			q := &quant.Quant{Header: quant.Header{ChainID: bang.Hash(), Height: 1, Prev: bang.Hash(),
				TxRoot: quant.RootOfIDs(nil), Time: time.Now().UnixMilli(), Seal: make([]byte, 16)}}
			return q, q
		}},
		{"another quant than planned", func(bang *quant.Quant) (*quant.Quant, *quant.Quant) {
			q := &quant.Quant{Header: quant.Header{ChainID: bang.Hash(), Height: 1, Prev: bang.Hash(),
				TxRoot: quant.RootOfIDs(nil), Time: time.Now().UnixMilli(), Seal: make([]byte, 16)}}
			other := *q
			other.Header.Time++
			return q, &other
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			a := c.start(0)
			b := c.start(1, a.Addr())
			eventually(t, "honest nodes connected", 10*time.Second, func() bool { return livePeers(a) == 1 })
			planned, served := tc.bad(a.Chain().Bang())
			l := startLiar(t, a.Chain().ID(), planned, served)
			if err := a.AddPeer(t.Context(), l.addr); err != nil {
				t.Fatalf("adding the liar: %v", err)
			}
			eventually(t, "the liar is banned after serving bad quants", 20*time.Second, func() bool {
				for _, p := range a.Peers() {
					if p.Addr == l.addr && p.State == "live" {
						return false
					}
				}
				return l.served.Load() >= 2
			})
			if h := a.Chain().Tip().Header.Height; h != 0 {
				t.Fatalf("the node took the liar's quant: height %d", h)
			}
			_, body := getMetrics(t, a)
			if !strings.Contains(body, "qbc_p2p_invalid_total") || strings.Contains(body, "qbc_p2p_invalid_total{chain=\""+a.Chain().ID().String()+"\"} 0\n") {
				t.Fatal("invalid data from the peer was not counted")
			}
			// The honest network goes on.
			q := leap(t, b)
			eventually(t, "the honest quant reaches a", 10*time.Second, func() bool { return a.Chain().Tip().Hash == q.Hash() })
		})
	}
}

func getMetrics(t *testing.T, n *Node) (int, string) {
	resp, err := http.Get("http://" + n.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestClaimedWorkIsNotTrusted: a peer that claims more work than anyone
// but gives no plan to sync is scored down, and the node syncs from the
// honest peer that really is ahead.
func TestClaimedWorkIsNotTrusted(t *testing.T) {
	c := newCluster(t)
	a := c.start(0)
	b := c.start(1)
	for range 3 {
		leap(t, b)
	}
	// A liar that names a quant it will never plan or serve.
	ghost := &quant.Quant{Header: quant.Header{ChainID: a.Chain().ID(), Height: 5, Time: time.Now().UnixMilli(), Seal: make([]byte, 16)}}
	l := startLiar(t, a.Chain().ID(), ghost, nil)
	if err := a.AddPeer(t.Context(), l.addr); err != nil {
		t.Fatalf("adding the liar: %v", err)
	}
	eventually(t, "the liar was asked for a plan", 10*time.Second, func() bool { return l.planned.Load() >= 1 })
	if err := a.AddPeer(t.Context(), b.Addr()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the node syncs from the honest peer", 20*time.Second, func() bool { return sameTip(a, b) })
	eventually(t, "the liar is scored down", 10*time.Second, func() bool {
		for _, p := range a.Peers() {
			if p.Addr == l.addr {
				return p.Score < 0 || p.State != "live"
			}
		}
		return true // dropped
	})
}
