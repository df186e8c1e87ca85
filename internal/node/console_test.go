package node

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/history"
)

// TestAdminTokenBeyondLoopback: a node that listens beyond loopback with
// no admin token makes one, keeps it 0600 in its data directory, keeps it
// across restarts, and its admin routes need it; on loopback it makes
// none.
func TestAdminTokenBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Addr = "0.0.0.0:0"
	cfg.Advertise = "127.0.0.1:1"
	n, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(b))
	if len(token) != 64 || n.cfg.AdminToken != token || !n.Info().AdminAuth {
		t.Fatalf("token %q, node's %q", token, n.cfg.AdminToken)
	}
	if n.cfg.UI != UIRead {
		t.Errorf("ui beyond loopback defaults to %q, want read", n.cfg.UI)
	}
	if s := n.Settings().(Config); s.AdminToken != "(set)" {
		t.Errorf("settings show the admin token as %q", s.AdminToken)
	}
	n.Close()
	n, err = New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if n.cfg.AdminToken != token {
		t.Errorf("restarted with token %q, want the stored %q", n.cfg.AdminToken, token)
	}
	n.Close()

	loop := testConfig(t, t.TempDir())
	m, err := New(loop, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := os.Stat(filepath.Join(loop.DataDir, adminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("a loopback node made a token file: %v", err)
	}
	if m.cfg.UI != UIAdmin || m.Info().AdminAuth {
		t.Errorf("loopback: ui %q, admin auth %v", m.cfg.UI, m.Info().AdminAuth)
	}
}

func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleRoutes: the UI's modes, the history ring filling on its
// clock, the redacted configuration behind the token, and removing a
// peer no chain knows.
func TestConsoleRoutes(t *testing.T) {
	for _, mode := range []string{UIOff, UIRead, UIAdmin} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.UI = mode
			cfg.AdminToken = "tok"
			cfg.HistoryInterval = Duration(100 * time.Millisecond)
			n := runNode(t, cfg, quiet())
			base := "http://" + n.Addr()
			status, body := get(t, base+"/ui/mode.json")
			switch {
			case mode == UIOff && status != 404:
				t.Errorf("ui off: /ui/mode.json answers %d", status)
			case mode != UIOff && (status != 200 || !strings.Contains(body, mode)):
				t.Errorf("ui %s: /ui/mode.json answers %d %s", mode, status, body)
			}
			if mode == UIOff {
				return
			}
			status, _ = get(t, base+"/ui/")
			if status != 200 {
				t.Errorf("/ui/: %d", status)
			}
			var h struct {
				IntervalMS int64            `json:"interval_ms"`
				Samples    []history.Sample `json:"samples"`
			}
			eventually(t, "two samples", 10*time.Second, func() bool {
				_, body := get(t, base+"/v1/node/history")
				json.Unmarshal([]byte(body), &h)
				return len(h.Samples) >= 2
			})
			if h.IntervalMS != 100 || len(h.Samples[0].Chains) != 1 || h.Samples[0].RSSBytes <= 0 {
				t.Errorf("history: %+v", h)
			}
			_, body = get(t, base+"/v1/node/history?since="+jsonInt(h.Samples[len(h.Samples)-1].Time))
			if strings.Contains(body, `"t":`+jsonInt(h.Samples[0].Time)) {
				t.Errorf("history?since= answers older samples: %s", body)
			}
			if status, _ := get(t, base+"/v1/node/config"); status != 401 {
				t.Errorf("config without the token: %d", status)
			}
			status, body = get(t, base+"/v1/node/config", "Authorization", "Bearer tok")
			if status != 200 || !strings.Contains(body, `"admin_token":"(set)"`) || strings.Contains(body, `"tok"`) {
				t.Errorf("config with the token: %d %s", status, body)
			}
			// A dry run checks rules and stores nothing.
			for _, c := range []struct {
				body   string
				status int
			}{{`{"name":"dry"}`, 200}, {`{"name":"dry","engine":"nope"}`, 422}, {`{"name":"dry","engine":"pow","engine_params":{"target_ms":-5}}`, 422}} {
				req, _ := http.NewRequest("POST", base+"/v1/chains?dry_run=true", strings.NewReader(c.body))
				req.Header.Set("Authorization", "Bearer tok")
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status {
					t.Errorf("dry run %s: %d %s, want %d", c.body, resp.StatusCode, b, c.status)
				}
			}
			if got := len(n.ledgers()); got != 1 {
				t.Errorf("after dry runs the node follows %d chains, want 1", got)
			}
			req, _ := http.NewRequest("DELETE", base+"/v1/peers/127.0.0.1:9", nil)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Errorf("removing an unknown peer: %d", resp.StatusCode)
			}
		})
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

// TestFollowAndRemovePeer: a node that follows no offered chain follows
// one on request (POST /v1/chains/{id}/follow), from the node named, even
// after leaving it; and forgets a peer on every chain (RemovePeer).
func TestFollowAndRemovePeer(t *testing.T) {
	c := newCluster(t)
	c.configure = func(cfg *Config) { cfg.Follow = FollowNone }
	a := c.start(0)
	b := c.start(1, a.Addr())
	eventually(t, "the nodes peer", 10*time.Second, func() bool { return len(a.Peers()) == 1 && len(b.Peers()) == 1 })
	made, err := a.CreateChain(t.Context(), schemaRules(t, "followed", `{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	id := made.Chain.ID()
	if _, ok := b.Ledger(id); ok {
		t.Fatal("a node with follow none followed an offered chain")
	}
	for round := range 2 {
		l, err := b.FollowChain(t.Context(), id, a.Addr())
		if err != nil {
			t.Fatalf("round %d: follow: %v", round, err)
		}
		if l.Chain.ID() != id {
			t.Fatalf("followed %s, want %s", l.Chain.ID(), id)
		}
		if err := b.LeaveChain(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.FollowChain(t.Context(), id, "127.0.0.1:1"); err == nil {
		t.Error("followed a chain from a node that is not there")
	}
	if err := b.RemovePeer(a.Addr()); err != nil {
		t.Fatal(err)
	}
	for _, p := range b.Peers() {
		if p.Addr == a.Addr() {
			t.Errorf("peer %s still listed after RemovePeer", p.Addr)
		}
	}
}
