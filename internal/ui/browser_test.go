package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qbc-chain/qbc/internal/node"
)

// The browser test drives the console's real pages in headless Chromium
// against a real node: it creates a chain through the form, injects and
// leaps, watches the quant arrive live in the explorer, opens a
// transaction and sees its proof checked in the page, searches, sees the
// charts drawn, runs a SQL query, and has admin actions refused without
// the token. It saves a screenshot of each page at desktop and phone
// widths into $QBC_ARTIFACTS (default a temporary directory);
// QBC_UI_SCREENSHOTS=DIR also writes the small copies docs/ui holds.

const adminToken = "test-admin-token"

const fastGenesis = `{"name":"ui-test","created":1700000000000,"engine":"pow",
	"engine_params":{"target_ms":200,"initial_difficulty":256,"min_difficulty":16,"window":8},
	"write_policy":"open","max_data_bytes":65536,"max_quant_txs":500,"max_quant_bytes":16777216,
	"max_time_drift_ms":120000}`

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("QBC_REQUIRE_ALL") != "" {
		t.Fatalf("QBC_REQUIRE_ALL is set but: "+format, args...)
	}
	t.Skipf(format, args...)
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	skipOrFail(t, "no chromium on PATH (apt-get install chromium): the console's browser test needs it")
	return ""
}

// startNode runs an in-process node on a loopback port with an admin
// token, fast history samples and a chain that leaps quickly, its console
// in mode ui; peers are nodes to join.
func startNode(t *testing.T, ui string, peers ...string) string {
	t.Helper()
	dir := t.TempDir()
	genesis := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(genesis, []byte(fastGenesis), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Genesis = genesis
	cfg.AdminToken = adminToken
	cfg.UI = ui
	cfg.HistoryInterval = node.Duration(250 * time.Millisecond)
	cfg.Peers = peers
	n, err := node.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; n.Close() })
	return "http://" + n.Addr()
}

func post(t *testing.T, url, body string) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// browser is one headless Chromium tab on the console.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
	docs      string // QBC_UI_SCREENSHOTS: where small copies go, or ""
	errs      chan string
}

func newBrowser(t *testing.T, base string) *browser {
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("lang", "en-GB"), chromedp.WindowSize(1280, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	art := os.Getenv("QBC_ARTIFACTS")
	if art == "" {
		art = t.TempDir()
	} else if err := os.MkdirAll(art, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, base: base, artifacts: art, docs: os.Getenv("QBC_UI_SCREENSHOTS"), errs: make(chan string, 64)}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		skipOrFail(t, "chromium at %s does not start: %v", path, err)
	}
	// Script errors, and the browser's refusals (a Content-Security-Policy
	// violation is one), fail the test.
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") {
				select {
				case b.errs <- fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line):
				default:
				}
			}
		}
	}()
	return b
}

// do runs browser steps, each run bounded.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	b.noErrors()
}

// noErrors fails on any script error the page threw.
func (b *browser) noErrors() {
	b.t.Helper()
	for {
		select {
		case e := <-b.errs:
			b.t.Errorf("page error: %s", e)
		default:
			return
		}
	}
}

// page opens a console page (a #/ route) and waits for sel to show.
func (b *browser) page(route, sel string) {
	b.t.Helper()
	b.do("open "+route, chromedp.Navigate(b.base+"/ui/"+route), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// wait polls a JavaScript condition until it is true.
func (b *browser) wait(what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil || !ok {
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#main').innerText`))
		b.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, cond, err, text)
	}
	b.noErrors()
}

// eval evaluates expr in the page, awaiting a promise.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// shot saves a screenshot of the viewport as NAME.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 40*time.Second)
	defer cancel()
	chromedp.Do(ctx, chromedp.Sleep(150*time.Millisecond))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if b.docs != "" {
		small, err := shrinkPNG(png)
		if err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.docs, name+".png"), small, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("QBC_REQUIRE_ALL") == "" {
		t.Skip("browser test: skipped with -short")
	}
	base := startNode(t, node.UIAdmin)
	b := newBrowser(t, base)
	start := time.Now()

	// Overview.
	b.page("#/overview", "#overview-cards .card")
	b.wait("the node id", `document.querySelector('#overview-cards').textContent.includes('Node id')`)

	// Admin actions without the token are refused.
	b.page("#/admin", "#token-form")
	b.wait("the configuration refused", `(document.querySelector('#config .msg.bad')||{}).textContent?.includes('admin token')`)
	status := eval[int](b, `fetch('/v1/chains', {method:'POST', headers:{'Content-Type':'application/json'}, body:'{"name":"x"}'}).then(r => r.status)`)
	if status != http.StatusUnauthorized {
		t.Errorf("POST /v1/chains without the token from the page: %d, want 401", status)
	}
	b.page("#/chains", "#create-form")
	b.do("create without a token",
		chromedp.SetValue(chromedp.CSS(`#create-form input[name=name]`), "orders"),
		chromedp.Click(chromedp.CSS(`#create-submit`)))
	b.wait("create refused", `(document.querySelector('#create-result .msg.bad')||{}).textContent?.includes('admin token')`)

	// The token, pasted on the admin page, is accepted and kept in the tab.
	b.page("#/admin", "#token-form")
	b.do("paste the token", chromedp.SetValue(chromedp.CSS(`#token`), adminToken), chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)))
	b.wait("the token accepted", `(document.querySelector('#config pre')||{}).textContent?.includes('"admin_token": "(set)"')`)
	b.shot("admin-desktop")

	// Create a chain through the form: the page checks the schema first.
	b.page("#/chains", "#create-form")
	b.do("a bad schema",
		chromedp.SetValue(chromedp.CSS(`#create-form input[name=name]`), "orders"),
		chromedp.SetValue(chromedp.CSS(`#create-form textarea[name=schema]`), `{"type":"objekt"}`),
		chromedp.Click(chromedp.CSS(`#create-check`)))
	b.wait("the schema refused in the page", `(document.querySelector('#create-result .msg.bad')||{}).textContent?.includes('not a JSON type')`)
	b.do("check the rules",
		chromedp.SetValue(chromedp.CSS(`#create-form textarea[name=schema]`), `{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}`),
		chromedp.SetValue(chromedp.CSS(`#create-form textarea[name=engine_params]`), `{"target_ms":200,"initial_difficulty":256,"min_difficulty":16,"window":8}`),
		chromedp.Click(chromedp.CSS(`#create-check`)))
	b.wait("the node's dry run", `(document.querySelector('#create-result .msg.ok')||{}).textContent?.includes('would be')`)
	b.do("create", chromedp.Click(chromedp.CSS(`#create-submit`)))
	b.wait("the chain created", `(document.querySelector('#create-result .msg.ok')||{}).textContent?.includes('created')`)
	href := eval[string](b, `document.querySelector('#create-result a').getAttribute('href')`)
	id := strings.TrimPrefix(href, "#/explorer/")
	if len(id) != 64 {
		t.Fatalf("created chain link %q", href)
	}
	b.wait("the chain listed", `document.querySelector('#chains-table').textContent.includes('orders')`)
	// Fork the default chain at its bang through the form.
	b.do("fork", chromedp.Click(chromedp.CSS(`#chains-table tbody tr:first-child button.secondary`)),
		chromedp.SetValue(chromedp.CSS(`#fork-form input[name=name]`), "ui-test-fork"),
		chromedp.Click(chromedp.CSS(`#fork-form button[type=submit]`)))
	b.wait("the fork created", `(document.querySelector('#fork-form .msg.ok')||{}).textContent?.includes('created')`)
	b.wait("the fork listed", `document.querySelector('#chains-table').textContent.includes('ui-test-fork')`)
	b.shot("chains-desktop")

	// The explorer shows a quant live: inject, leap, watch it arrive.
	b.page("#/explorer/"+id, "#quants tr")
	b.wait("the event stream", `document.querySelector('#live').classList.contains('on')`)
	var sub struct {
		ID string `json:"id"`
	}
	json.Unmarshal(post(t, base+"/v1/chains/"+id+"/txs", `{"data":{"sku":"a-1"},"key":"orders/1"}`), &sub)
	post(t, base+"/v1/chains/"+id+"/txs", `{"data":{"sku":"b-2"},"key":"orders/2"}`)
	post(t, base+"/v1/chains/"+id+"/leap", "")
	b.wait("quant 1 live", `!!document.querySelector('#quants tr.fresh[data-height="1"]')`)
	b.wait("the records listed live", `document.querySelectorAll('#records a').length === 2`)
	// A few more quants, so that the lists and charts have something to
	// show.
	for i := range 5 {
		for j := range i + 1 {
			post(t, base+"/v1/chains/"+id+"/txs", fmt.Sprintf(`{"data":{"sku":"c-%d-%d"}}`, i, j))
		}
		post(t, base+"/v1/chains/"+id+"/leap", "")
	}
	b.wait("quant 6 live", `!!document.querySelector('#quants tr[data-height="6"]')`)
	b.shot("explorer-desktop")

	// A quant, then a transaction with its proof checked in the page.
	b.page("#/quant/"+id+"/1", "#quant-txs a")
	b.shot("quant-desktop")
	b.do("open the transaction", chromedp.Click(chromedp.CSS(`a[href="#/tx/`+id+`/`+sub.ID+`"]`)))
	b.wait("the proof checked", `(document.querySelector('#proof-result .msg.ok')||{}).textContent?.includes('checked in this browser')`)
	checks := eval[int](b, `document.querySelectorAll('#proof-result li.ok').length`)
	if checks < 6 {
		t.Errorf("%d proof checks passed, want 7", checks)
	}
	b.shot("tx-desktop")
	// The page's own SHA-256 (for pages that are not a secure context, where
	// WebCrypto is missing) agrees with WebCrypto around the block sizes.
	if ok := eval[bool](b, `(async () => {
		for (const n of [0, 1, 31, 55, 56, 63, 64, 65, 119, 120, 1000]) {
			const m = new Uint8Array(n).map((_, i) => (i * 131 + n) & 255);
			const want = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', m)));
			if (bytesToHex(sha256js(m)) !== want) return false;
		}
		return true;
	})()`); !ok {
		t.Error("the page's JavaScript SHA-256 disagrees with WebCrypto")
	}
	// A wrong trusted hash is refused.
	b.do("distrust", chromedp.SetValue(chromedp.CSS(`#trusted`), strings.Repeat("ab", 32)), chromedp.Click(chromedp.CSS(`#proof form button[type=submit]`)))
	b.wait("the proof refused", `!!document.querySelector('#proof-result .msg.bad')`)

	// One search box: a transaction id, a height, a record key.
	b.page("#/overview", "#overview-cards .card")
	for _, c := range []struct{ q, want string }{
		{sub.ID, "#/tx/" + id + "/" + sub.ID},
		{"1", "#/quant/" + id + "/1"},
		{"orders/2", "#/record/" + id + "/orders%2F2"},
	} {
		b.do("search "+c.q, chromedp.SetValue(chromedp.CSS(`#q`), c.q), chromedp.Click(chromedp.CSS(`#search button[type=submit]`)))
		b.wait("search "+c.q, fmt.Sprintf(`location.hash === %q && document.querySelector('#main h1') !== null`, c.want))
	}
	b.wait("the record's history", `document.querySelectorAll('#history tr').length === 1`)
	b.shot("record-desktop")

	// Analytics: the charts have points.
	b.page("#/analytics", "#charts svg")
	b.wait("charts with points", `[...document.querySelectorAll('#charts polyline')].filter(p => p.getAttribute('points').split(' ').length >= 2).length >= 6`)
	b.shot("analytics-desktop")

	// SQL: the projection answers a query.
	b.page("#/sql", "#sql-tables button")
	b.wait("the projection holds the transactions", `fetch('/v1/sql', {method:'POST', headers:{'Content-Type':'application/json'}, body: JSON.stringify({query: "SELECT count(*) FROM transactions WHERE chain = '`+id+`'"})}).then(r => r.json()).then(j => j.rows[0][0] >= 2)`)
	b.do("run a query", chromedp.SetValue(chromedp.CSS(`#sql-query`), "SELECT key, height FROM transactions WHERE chain = '"+id+"' AND key IS NOT NULL ORDER BY key"),
		chromedp.Click(chromedp.CSS(`#sql-run`)))
	b.wait("the result grid", `document.querySelector('#sql-result table') && document.querySelector('#sql-result').textContent.includes('orders/2')`)
	b.shot("sql-desktop")

	// Network: a second node joins; the page shows it live, with the
	// chains it shares with this one.
	peer := startNode(t, node.UIRead, strings.TrimPrefix(base, "http://"))
	b.page("#/network", "#no-peers, #peers")
	b.wait("the peer live", `document.querySelector('#peers') && document.querySelector('#peers').textContent.includes('`+strings.TrimPrefix(peer, "http://")+`') && document.querySelector('#peers').textContent.includes('live')`)
	b.shot("network-desktop")
	// The peer serves its console read-only: no admin page, no forms that
	// change the node.
	b.do("the read-only console", chromedp.Navigate(peer+"/ui/#/chains"), chromedp.WaitVisible(chromedp.CSS(`#chains-table`)))
	if hidden := eval[bool](b, `document.body.classList.contains('read') && getComputedStyle(document.querySelector('#create-form').closest('.admin-only')).display === 'none' && document.querySelector('a[data-page=admin]').offsetParent === null`); !hidden {
		t.Error("ui: read shows the admin page or the create form")
	}
	b.do("the read-only admin page", chromedp.Navigate(peer+"/ui/#/admin"), chromedp.WaitVisible(chromedp.CSS(`#main .msg.warn`)))
	b.do("back", chromedp.Navigate(base+"/ui/#/network"), chromedp.WaitVisible(chromedp.CSS(`#peers`)))
	b.page("#/overview", "#overview-cards .card")
	b.wait("overview figures", `document.querySelector('#overview-cards').textContent.includes('Committed tx/s') && document.querySelectorAll('#main polyline').length > 0`)
	b.shot("overview-desktop")

	// Keyboard: the navigation is links, reachable with Tab, with a
	// visible focus style.
	// From the skip link (the first stop), Tab goes to the brand, then to
	// the first page link, outlined.
	b.do("tab", chromedp.Focus(chromedp.CSS(`.skip`)), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab))
	focusable := eval[bool](b, `document.activeElement.matches('#nav a') && getComputedStyle(document.activeElement).outlineStyle !== 'none'`)
	if !focusable {
		t.Errorf("the navigation's links take no visible focus: focus on %s", eval[string](b, `document.activeElement.outerHTML.slice(0, 80) + ' outline ' + getComputedStyle(document.activeElement).outlineStyle`))
	}

	// Phone width: every page again, nothing wider than the screen.
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile))
	for _, p := range []struct{ name, route, sel string }{
		{"overview", "#/overview", "#overview-cards .card"},
		{"chains", "#/chains", "#chains-table"},
		{"explorer", "#/explorer/" + id, "#quants tr"},
		{"tx", "#/tx/" + id + "/" + sub.ID, "#proof-result .msg.ok"},
		{"network", "#/network", "#peers"},
		{"analytics", "#/analytics", "#charts polyline"},
		{"sql", "#/sql", "#sql-tables button"},
		{"admin", "#/admin", "#config pre"},
	} {
		b.do("open "+p.route, chromedp.Navigate(b.base+"/ui/?w=390"+p.route), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		over := eval[int](b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`)
		if over > 0 {
			t.Errorf("%s at 390 px: the page is %d px wider than the screen", p.name, over)
		}
		b.shot(p.name + "-phone")
	}
	t.Logf("browser test: %s; screenshots in %s", time.Since(start).Round(time.Millisecond), b.artifacts)
}

// shrinkPNG re-encodes a screenshot with at most 256 colours (flat UI
// colours: little is lost) and best compression, for docs/ui.
func shrinkPNG(b []byte) ([]byte, error) {
	return quantize(bytes.NewReader(b))
}
