package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
)

// runT runs qbc in process with an empty environment and returns its
// output.
func runT(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	err = runEnv(context.Background(), e, args)
	return out.String(), errb.String(), err
}

// TestEveryCommandHasHelp checks that each command and subcommand answers
// --help on stdout with a usage line, a description and an example.
func TestEveryCommandHasHelp(t *testing.T) {
	var paths [][]string
	for _, c := range commands() {
		paths = append(paths, []string{c.name})
	}
	for _, c := range txCommands() {
		paths = append(paths, []string{"tx", c.name})
	}
	for _, c := range keysCommands() {
		paths = append(paths, []string{"keys", c.name})
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		t.Run(name, func(t *testing.T) {
			out, errOut, err := runT(t, nil, append(p, "--help")...)
			if err != nil {
				t.Fatalf("qbc %s --help: %v", name, err)
			}
			if errOut != "" {
				t.Errorf("stderr: %q", errOut)
			}
			if !strings.HasPrefix(out, "Usage: qbc "+name) {
				t.Errorf("help does not start with the usage line:\n%s", out)
			}
			ex := strings.Index(out, "\nExample:\n  qbc ")
			if ex < 0 {
				t.Errorf("help has no example:\n%s", out)
			}
			if len(strings.TrimSpace(out[:max(ex, 0)])) < 60 {
				t.Errorf("help has no description:\n%s", out)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	var b bytes.Buffer
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{usagef("bad flag"), 2},
	} {
		b.Reset()
		if got := exitCode(tc.err, &b); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
		if tc.err != nil && b.String() != "qbc: "+tc.err.Error()+"\n" {
			t.Errorf("exitCode(%v) printed %q", tc.err, b.String())
		}
	}
	// Bad flags are usage errors; a help request is success.
	_, _, err := runT(t, nil, "leap", "--nope")
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Errorf("leap --nope: %v is not a usage error", err)
	}
	if _, _, err := runT(t, nil, "node", "-h"); err != nil {
		t.Errorf("node -h: %v", err)
	}
}

// TestKeysNewFileMode checks the key file is private to its owner.
func TestKeysNewFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	out, _, err := runT(t, nil, "keys", "new", "--out", path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode %v, want 0600", mode)
	}
	key, err := loadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(out), hex.EncodeToString(key.Public().(ed25519.PublicKey)); got != want {
		t.Errorf("printed %q, want the public key %q", got, want)
	}
}

// TestTxSignVerifies checks the signature tx sign prints with the standard
// library alone, against the key file's public key.
func TestTxSignVerifies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	if _, _, err := runT(t, nil, "keys", "new", "--out", path); err != nil {
		t.Fatal(err)
	}
	key, err := loadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	chain := strings.Repeat("ab", 32)
	out, _, err := runT(t, nil, "tx", "sign", "--key", path, "--chain", chain, `{"x": [1, "<y>"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var j api.Tx
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("tx sign printed %q: %v", out, err)
	}
	if j.PubKey != hex.EncodeToString(key.Public().(ed25519.PublicKey)) {
		t.Errorf("pubkey %s is not the key file's", j.PubKey)
	}
	tx, err := j.ToTx()
	if err != nil {
		t.Fatal(err)
	}
	if string(tx.Data) != `{"x":[1,"<y>"]}` {
		t.Errorf("signed data %s, want the compact JSON", tx.Data)
	}
	if tx.ChainID.String() != chain || j.ID == nil || *j.ID != tx.ID() {
		t.Errorf("chain %s id %v: not what was signed", tx.ChainID, j.ID)
	}
	sig, _ := hex.DecodeString(j.Sig)
	if !ed25519.Verify(key.Public().(ed25519.PublicKey), tx.SigningBytes(), sig) {
		t.Error("signature does not verify")
	}
	tx.Data = []byte(`{"x":[2,"<y>"]}`)
	if ed25519.Verify(key.Public().(ed25519.PublicKey), tx.SigningBytes(), sig) {
		t.Error("signature verifies over changed data")
	}
}

func TestPayload(t *testing.T) {
	e := &env{stdin: strings.NewReader(" {\"a\": 1}\n")}
	for _, tc := range []struct {
		arg      string
		asString bool
		want     string
		wantErr  bool
	}{
		{`{"b": [1, 2]}`, false, `{"b":[1,2]}`, false},
		{`"text"`, false, `"text"`, false},
		{`42`, false, `42`, false},
		{`not json`, false, ``, true},
		{`not json`, true, `"not json"`, false},
		{`<&>`, true, `"<&>"`, false},
		{`-`, false, `{"a":1}`, false},
	} {
		got, err := payload(e, "test", tc.arg, tc.asString, 1<<20)
		if (err != nil) != tc.wantErr || string(got) != tc.want {
			t.Errorf("payload(%q, %v) = %s, %v; want %s (error %v)", tc.arg, tc.asString, got, err, tc.want, tc.wantErr)
		}
	}
	if _, err := payload(&env{stdin: strings.NewReader("[1,2,3]")}, "test", "-", false, 4); err == nil {
		t.Error("payload read past its limit")
	}
}

func TestParseInterspersed(t *testing.T) {
	e := &env{stdout: &bytes.Buffer{}}
	fs := newFlags(e, "x", "Usage: qbc x", "qbc x")
	a := fs.String("a", "", "")
	b := fs.Bool("b", false, "")
	pos, err := fs.parse([]string{"one", "-a", "v", "two", "--b", "--", "-three", "--a"})
	if err != nil {
		t.Fatal(err)
	}
	if *a != "v" || !*b || strings.Join(pos, ",") != "one,two,-three,--a" {
		t.Errorf("a=%q b=%v pos=%q", *a, *b, pos)
	}
}
