package peer

import (
	"bufio"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// TestHeadFirst: a request is refused from its head alone, before its
// body is sent, when its sender is not a member of a closed network, is
// addressed to another node, is stale, or claims a body past its kind's
// cap; the connection is answered at once though the claimed body never
// comes.
func TestHeadFirst(t *testing.T) {
	chain := quant.Sum("test", []byte("head-first"))
	_, memberKey, _ := ed25519.GenerateKey(nil)
	_, key, _ := ed25519.GenerateKey(nil)
	srvNode := newTestNode(t, chain)
	defer srvNode.srv.Close() // the goroutine-leak tests after this one must not see it
	// Close the network to memberKey (and the node itself).
	srvNode.svc.guard = newGuard(srvNode.svc.self, 30_000, []ed25519.PublicKey{memberKey.Public().(ed25519.PublicKey)})
	self := srvNode.svc.self
	head := func(k ed25519.PrivateKey, to ID, kind Kind, at time.Time, n int) []byte {
		e := &Envelope{To: to, Time: at.UnixMilli(), Nonce: 1, Kind: kind, Chain: chain, Body: make([]byte, n)}
		e.Sign(k)
		return e.Encode()[:envelopeHead]
	}
	for _, tc := range []struct {
		name   string
		head   []byte
		status int
		code   Code
	}{
		{"stranger", head(key, self, KindTx, time.Now(), 60<<20), 403, CodeNotMember},
		{"for another node", head(memberKey, ID{1}, KindTx, time.Now(), 60<<20), 401, CodeUnauthenticated},
		{"stale", head(memberKey, self, KindTx, time.Now().Add(-time.Hour), 60<<20), 401, CodeUnauthenticated},
		{"status with a large body", head(memberKey, self, KindStatus, time.Now(), 1<<20), 413, CodeTooLarge},
		{"get_quant with a large body", head(memberKey, self, KindGetQuant, time.Now(), 1<<10), 413, CodeTooLarge},
	} {
		status, code := sendHead(t, srvNode.srv.Listener.Addr().String(), ChainPath(chain), tc.head, 60<<20)
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}
}

// sendHead posts a request declaring contentLength bytes but sends only
// head, then reads the answer (within 5 s: the server must answer without
// the rest).
func sendHead(t *testing.T, addr, path string, head []byte, contentLength int) (int, Code) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", path, addr, contentLength)
	conn.Write(head)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a head alone: %v", err)
	}
	defer resp.Body.Close()
	var e struct{ Error struct{ Code Code } }
	decodeJSON(resp, &e)
	return resp.StatusCode, e.Error.Code
}

// TestMaxAnswer: the answers to a node's own requests are read up to their
// kind's size.
func TestMaxAnswer(t *testing.T) {
	if maxAnswer(KindStatus) > 64<<10 || maxAnswer(KindHello) > 128<<10 {
		t.Errorf("a status answer may be %d bytes, a hello's %d", maxAnswer(KindStatus), maxAnswer(KindHello))
	}
	if maxAnswer(KindGetQuant) < quant.MaxQuantSize {
		t.Error("a quant's answer cannot hold the largest quant")
	}
	for _, k := range []Kind{KindHello, KindStatus, KindPeers, KindTx, KindAnnounce, KindGetQuant, KindHashes, KindGetQuants} {
		if maxRequestBody(k) < 0 {
			t.Errorf("no request cap for %s", k)
		}
	}
	if maxRequestBody(KindReply) >= 0 {
		t.Error("a reply is taken as a request")
	}
}

func decodeJSON(resp *http.Response, v any) { json.NewDecoder(resp.Body).Decode(v) }

// TestSuggestionsBounded: one peer's suggestions wait for discovery at
// most maxSuggestions at a time, however many it names; a stranger's
// peers message is ignored.
func TestSuggestionsBounded(t *testing.T) {
	n := newTestNode(t, quant.Sum("test", []byte("suggestions")))
	defer n.srv.Close()
	addrs := func(base int) []string {
		var out []string
		for i := range 64 {
			out = append(out, fmt.Sprintf("10.0.%d.%d:5000", base, i))
		}
		return out
	}
	pending := func() int {
		n.svc.mu.Lock()
		defer n.svc.mu.Unlock()
		return len(n.svc.pending)
	}
	n.svc.queueDiscover(ID{1}, addrs(1))
	n.svc.queueDiscover(ID{1}, addrs(2))
	if got := pending(); got != maxSuggestions {
		t.Fatalf("one peer's 128 addresses: %d pending, want %d", got, maxSuggestions)
	}
	n.svc.queueDiscover(ID{2}, addrs(3))
	if got := pending(); got != 2*maxSuggestions {
		t.Fatalf("a second peer: %d pending, want %d", got, 2*maxSuggestions)
	}
	_, stranger, _ := ed25519.GenerateKey(nil)
	body, _ := json.Marshal(peersBody{Addrs: addrs(4)})
	e := &Envelope{Kind: KindPeers, Body: body}
	e.Sign(stranger)
	if _, err := n.svc.handlePeers(e); err != nil || pending() != 2*maxSuggestions {
		t.Fatalf("a stranger's peers message: %v, %d pending", err, pending())
	}
}
