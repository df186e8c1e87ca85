package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/encrypt"
	"github.com/qbc-chain/qbc/internal/quant"
)

// TestValueEncrypter: the glue 'qbc tx send' and 'qbc tx get' share. An
// unsigned transaction is encrypted in place (whole value to bytes, or
// fields), a signed one refused; decryptTx gives the value back to the
// reader, and opens only what it can.
func TestValueEncrypter(t *testing.T) {
	dir := t.TempDir()
	keys := map[string]string{}
	for _, name := range []string{"alice", "eve"} {
		_, k, _ := ed25519.GenerateKey(nil)
		keys[name] = filepath.Join(dir, name+".key")
		if err := saveKey(keys[name], k); err != nil {
			t.Fatal(err)
		}
		keys[name+".pub"] = hex.EncodeToString(k.Public().(ed25519.PublicKey))
	}
	mk := func(to, fields string) valueEncrypter {
		v, err := encryptFlags{to: &to, fields: &fields}.encrypter("test")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	alice, err := loadIdentities("test", keys["alice"])
	if err != nil {
		t.Fatal(err)
	}
	eve, _ := loadIdentities("test", keys["eve"])

	whole := &quant.Tx{Kind: quant.DataJSON, Data: []byte(`{"a":"secret"}`)}
	if err := mk(keys["alice.pub"], "").applyTx(whole); err != nil || whole.Kind != quant.DataBytes || !encrypt.IsEncrypted(whole.Data) {
		t.Fatalf("whole value: %v, kind %d", err, whole.Kind)
	}
	at := api.FromTx(whole)
	if done, err := decryptTx(&at, alice); err != nil || len(done) != 1 || done[0] != "" || string(at.Data) != `{"a":"secret"}` || at.Kind != api.KindJSON {
		t.Fatalf("reader: %v %v %s", done, err, at.Data)
	}
	at = api.FromTx(whole)
	if _, err := decryptTx(&at, eve); !errors.Is(err, encrypt.ErrNotReader) {
		t.Fatalf("non-reader: %v", err)
	}

	fields := &quant.Tx{Kind: quant.DataJSON, Data: []byte(`{"a":"secret","b":"open"}`)}
	if err := mk(keys["alice.pub"], "/a").applyTx(fields); err != nil || fields.Kind != quant.DataJSON || strings.Contains(string(fields.Data), "secret") {
		t.Fatalf("fields: %v, %s", err, fields.Data)
	}
	if err := quant.CheckPayload(fields); err != nil {
		t.Fatalf("field-encrypted payload not canonical: %v", err)
	}
	at = api.FromTx(fields)
	if done, err := decryptTx(&at, alice); err != nil || len(done) != 1 || done[0] != "/a" || !strings.Contains(string(at.Data), `"a":"secret"`) {
		t.Fatalf("fields reader: %v %v %s", done, err, at.Data)
	}

	// A document the decrypter cannot read (too deep) is shown as it is.
	deep := api.Tx{Kind: api.KindJSON, Data: []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100))}
	if done, err := decryptTx(&deep, alice); err != nil || len(done) != 0 {
		t.Fatalf("deep document: %v %v", done, err)
	}

	signed := &quant.Tx{Kind: quant.DataJSON, Data: []byte(`{}`)}
	_, k, _ := ed25519.GenerateKey(nil)
	signed.Sign(k)
	if err := mk(keys["alice.pub"], "").applyTx(signed); err == nil || !strings.Contains(err.Error(), "encrypt when signing") {
		t.Fatalf("signed: %v", err)
	}
	// Without --encrypt-to nothing changes.
	plain := &quant.Tx{Kind: quant.DataJSON, Data: []byte(`{}`)}
	if err := mk("", "").applyTx(plain); err != nil || string(plain.Data) != `{}` {
		t.Fatalf("no recipients: %v", err)
	}
	to, f := "", "/a"
	if _, err := (encryptFlags{to: &to, fields: &f}).encrypter("test"); err == nil {
		t.Fatal("--encrypt-fields without --encrypt-to accepted")
	}
}
