package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEncryptedValuesDoNotLeak: values written encrypted (the whole value,
// signed and unsigned, and one field) leave no readable trace on the node:
// a unique marker in them is in no file of the data directory, not in
// /json-chain, the transaction's status, /stats, /metrics or the event
// stream, and not in the node's logs (at debug level). A plaintext control marker written the
// same way is found in the data directory and /json-chain, so the search
// would see a leak; and the reader gets the marker back.
func TestEncryptedValuesDoNotLeak(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "node")
	noEnv := func(string) string { return "" }
	n, err := startTestNode(noEnv, dataDir, "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			if err := n.stop(); err != nil {
				t.Errorf("node: %v", err)
			}
		}
	}
	defer stop()

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "reader.key")
	if err := saveKey(keyFile, key); err != nil {
		t.Fatal(err)
	}
	pub := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	marker := "secret-marker-" + rand.Text()
	control := "plain-marker-" + rand.Text()

	clientEnv := func(name string) string {
		if name == "QBC_NODE" {
			return "http://" + n.addr
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	qbc := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: clientEnv}
		if err := runEnv(ctx, e, args); err != nil {
			t.Fatalf("qbc %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String()
	}
	txID := func(out string) string {
		t.Helper()
		var sub struct{ ID string }
		if err := json.Unmarshal([]byte(out), &sub); err != nil || sub.ID == "" {
			t.Fatalf("no id in %q: %v", out, err)
		}
		return sub.ID
	}
	// The event stream, read while the values are written and committed.
	evCtx, evCancel := context.WithCancel(ctx)
	defer evCancel()
	evReq, _ := http.NewRequestWithContext(evCtx, http.MethodGet, "http://"+n.addr+"/v1/events", nil)
	evResp, err := http.DefaultClient.Do(evReq)
	if err != nil {
		t.Fatal(err)
	}
	stream := &syncBuffer{wrote: make(chan struct{}, 1)}
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		io.Copy(stream, evResp.Body)
		evResp.Body.Close()
	}()
	defer func() { evCancel(); <-evDone }()

	value := `{"note":"` + marker + `","n":1}`
	ids := []string{
		txID(qbc("inject", "--encrypt-to", pub, value)),
		txID(qbc("inject", "--key", keyFile, "--encrypt-to", pub, value)),
		txID(qbc("inject", "--encrypt-to", pub, "--encrypt-fields", "/note", value)),
	}
	qbc("inject", `{"note":"`+control+`"}`)
	qbc("leap")
	for deadline := time.After(30 * time.Second); !strings.Contains(stream.String(), "event: quant"); {
		select {
		case <-stream.wrote:
		case <-deadline:
			t.Fatalf("no quant event within 30s: %q", stream.String())
		}
	}
	evCancel()
	<-evDone

	// The reader reads every value back.
	for _, id := range ids {
		if out := qbc("tx", "get", "--identity", keyFile, id); !strings.Contains(out, marker) || !strings.Contains(out, `"committed"`) {
			t.Fatalf("the reader does not get the value back: %s", out)
		}
	}

	// What the API shows.
	get := func(path string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		return b
	}
	jsonChain := get("/json-chain")
	if !bytes.Contains(jsonChain, []byte(control)) {
		t.Fatalf("control: the plaintext marker is not in /json-chain: the search would miss a leak")
	}
	answers := map[string][]byte{"/json-chain": jsonChain, "/metrics": get("/metrics"), "/stats": get("/stats"), "/v1/events": []byte(stream.String())}
	for _, id := range ids {
		answers["/v1/txs/"+id] = get("/v1/txs/" + id)
	}
	for path, b := range answers {
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("the marker is readable in GET %s", path)
		}
	}

	// What the node keeps and logs, after it has stopped (and flushed).
	stop()
	if logs := n.logs.String(); strings.Contains(logs, marker) {
		t.Errorf("the marker is in the node's logs")
	} else if !strings.Contains(logs, "level=DEBUG") && !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Logf("no debug lines in the logs (%d bytes)", len(logs))
	}
	files, foundControl := 0, false
	err = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("the marker is readable in %s", path)
		}
		foundControl = foundControl || bytes.Contains(b, []byte(control))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !foundControl {
		t.Fatalf("control: the plaintext marker is in none of %d files of the data directory: the search would miss a leak", files)
	}
}
