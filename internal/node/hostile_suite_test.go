package node

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/peer"
	"github.com/qbc-chain/qbc/internal/quant"
)

// The hostile suite (issue 11): one case per class of cheap attack on a
// node, each bounded in time and count and aimed at loopback only. Each
// case runs its attack while an honest client writes and reads, and
// asserts that the attacker is answered (or cut off) within a bound, that
// the honest client is served within a bound meanwhile, that the node's
// heap stays under a bound, and that the node keeps its data.
const (
	attackFor     = 2 * time.Second // how long each attack runs
	honestBound   = 3 * time.Second // the longest an honest request may take under attack
	answerBound   = 5 * time.Second // the longest an attacker may wait for a refusal
	heapGrowBound = 256 << 20       // the most the heap may grow during an attack
	attackers     = 16              // concurrent attacking connections
	honestEvery   = 50 * time.Millisecond
)

// honest writes and reads at n until ctx ends, and reports the slowest
// request and any failure.
func honest(ctx context.Context, t *testing.T, n *Node) (slowest time.Duration, failed error) {
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + n.Addr()
	for i := 0; ctx.Err() == nil; i++ {
		start := time.Now()
		resp, err := client.Post(base+"/inject", "application/json", strings.NewReader(fmt.Sprintf(`{"key":"honest/%d","data":{"i":%d}}`, i%8, i)))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				err = fmt.Errorf("inject: %d", resp.StatusCode)
			}
		}
		if err == nil {
			resp, err = client.Get(base + "/v1/stats")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		if err != nil {
			return slowest, err
		}
		slowest = max(slowest, time.Since(start))
		select {
		case <-ctx.Done():
		case <-time.After(honestEvery):
		}
	}
	return slowest, nil
}

// underAttack runs attack (which must return when its context ends)
// against a fresh node while an honest client works, then checks the
// bounds and that the node still leaps and keeps what it committed.
func underAttack(t *testing.T, attack func(ctx context.Context, n *Node)) {
	c := newCluster(t)
	n := c.start(0)
	before := leap(t, n).Header.Height
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapInuse

	ctx, cancel := context.WithTimeout(context.Background(), attackFor)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); attack(ctx, n) }()
	slowest, err := honest(ctx, t, n)
	wg.Wait()
	if err != nil {
		t.Fatalf("an honest client failed under attack: %v", err)
	}
	if slowest > honestBound {
		t.Errorf("an honest request took %v under attack (bound %v)", slowest, honestBound)
	}
	runtime.ReadMemStats(&ms)
	if grew := int64(ms.HeapInuse) - int64(heap0); grew > heapGrowBound {
		t.Errorf("the heap grew %d MiB under attack (bound %d MiB)", grew>>20, heapGrowBound>>20)
	}
	q := leap(t, n)
	if q.Header.Height != before+1 || len(q.Txs) == 0 {
		t.Errorf("after the attack the node leapt to %d with %d transactions", q.Header.Height, len(q.Txs))
	}
	if _, err := n.Chain().Record("honest/0"); err != nil {
		t.Errorf("the honest client's record after the attack: %v", err)
	}
}

// each runs fn on attackers goroutines until ctx ends.
func each(ctx context.Context, fn func(ctx context.Context, i int)) {
	var wg sync.WaitGroup
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				fn(ctx, i)
			}
		}()
	}
	wg.Wait()
}

// timed checks that an attacker's request is answered within answerBound.
func timed(t *testing.T, what string, start time.Time) {
	if d := time.Since(start); d > answerBound {
		t.Errorf("%s answered after %v (bound %v)", what, d, answerBound)
	}
}

func TestHostileSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile suite runs attacks of 2 s each; -short leaves it out")
	}
	t.Run("slow request bodies", func(t *testing.T) {
		// Connections that send a request head and then a byte now and
		// then: they hold a handler each until the body deadline, never
		// the node.
		underAttack(t, func(ctx context.Context, n *Node) {
			each(ctx, func(ctx context.Context, i int) {
				conn, err := net.Dial("tcp", n.Addr())
				if err != nil {
					return
				}
				defer conn.Close()
				fmt.Fprintf(conn, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[")
				for ctx.Err() == nil {
					conn.Write([]byte(" "))
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			})
		})
	})
	t.Run("stranger's peer messages claiming huge bodies", func(t *testing.T) {
		underAttack(t, func(ctx context.Context, n *Node) {
			_, key, _ := ed25519.GenerateKey(nil)
			each(ctx, func(ctx context.Context, i int) {
				e := &peer.Envelope{To: n.ID(), Time: time.Now().UnixMilli(), Nonce: uint64(time.Now().UnixNano()), Kind: peer.KindStatus,
					Body: make([]byte, 1<<20), Chain: n.Chain().ID()}
				e.Sign(key)
				start := time.Now()
				enc := e.Encode()
				head := enc[:len(enc)-len(e.Body)-ed25519.SignatureSize]
				status := sendPartial(n.Addr(), peer.ChainPath(n.Chain().ID()), head, 64<<20)
				timed(t, "a peer message claiming 64 MiB", start)
				if status != http.StatusRequestEntityTooLarge && status != 0 {
					t.Errorf("a status message with a 1 MiB body: %d", status)
				}
			})
		})
	})
	t.Run("deeply nested and oversized payloads", func(t *testing.T) {
		underAttack(t, func(ctx context.Context, n *Node) {
			deep := `{"data":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`
			deep65 := `{"data":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`
			each(ctx, func(ctx context.Context, i int) {
				if i%2 == 1 { // past the payload bound, within the JSON decoder's
					resp, err := http.Post("http://"+n.Addr()+"/inject", "application/json", strings.NewReader(deep65))
					if err != nil {
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusUnprocessableEntity {
						t.Errorf("a payload 65 deep: %d", resp.StatusCode)
					}
					return
				}
				start := time.Now()
				resp, err := http.Post("http://"+n.Addr()+"/inject", "application/json", strings.NewReader(deep))
				if err != nil {
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				timed(t, "a payload 100,000 deep", start)
				if (resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnprocessableEntity) || len(b) > 4096 {
					t.Errorf("a payload 100,000 deep: %d, %d bytes of answer", resp.StatusCode, len(b))
				}
			})
		})
	})
	t.Run("unread event streams", func(t *testing.T) {
		underAttack(t, func(ctx context.Context, n *Node) {
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for range 300 { // past the node's 256 streams
				conn, err := net.Dial("tcp", n.Addr())
				if err != nil {
					continue
				}
				conns = append(conns, conn)
				fmt.Fprintf(conn, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
			}
			<-ctx.Done()
		})
	})
	t.Run("forged signatures", func(t *testing.T) {
		underAttack(t, func(ctx context.Context, n *Node) {
			each(ctx, func(ctx context.Context, i int) {
				tx := &quant.Tx{ChainID: n.Chain().ID(), Time: time.Now().UnixMilli(), Nonce: uint64(time.Now().UnixNano()),
					Kind: quant.DataJSON, Data: []byte(`{"forged":true}`), PubKey: make([]byte, 32), Sig: make([]byte, 64)}
				tx.PubKey[0] = 1 // the identity: small order, verifies any message with a zero signature
				start := time.Now()
				resp, err := http.Post("http://"+n.Addr()+"/v1/txs", "application/octet-stream", strings.NewReader(string(tx.Encode())))
				if err != nil {
					return
				}
				var e struct{ Error struct{ Code string } }
				json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				timed(t, "a forged transaction", start)
				if e.Error.Code != string(quant.CodeBadSignature) {
					t.Errorf("a forged transaction: %d %s", resp.StatusCode, e.Error.Code)
				}
			})
		})
	})
	t.Run("cross-site form posts", func(t *testing.T) {
		underAttack(t, func(ctx context.Context, n *Node) {
			each(ctx, func(ctx context.Context, i int) {
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+n.Addr()+"/inject", strings.NewReader("data=evil"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				req.Header.Set("Origin", "https://evil.example")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("a cross-site form post: %d", resp.StatusCode)
				}
			})
		})
	})
}

// sendPartial posts a request declaring contentLength bytes, sends only
// part of it, and returns the status of the answer (0 if none came within
// answerBound).
func sendPartial(addr, path string, part []byte, contentLength int) int {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(answerBound))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", path, addr, contentLength)
	conn.Write(part)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
