package encrypt_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/qbc-chain/qbc/internal/encrypt"
	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
)

// reader is a qbc key and the files a reader keeps.
type reader struct {
	key     ed25519.PrivateKey
	pub     string // hex, what 'qbc keys public' prints
	keyFile string // a qbc key file
}

func newReader(t *testing.T, seed byte) reader {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	pub := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	b, _ := json.Marshal(map[string]string{"public": pub, "private": hex.EncodeToString(key.Seed())})
	path := filepath.Join(t.TempDir(), "reader.key")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return reader{key: key, pub: pub, keyFile: path}
}

func identities(t *testing.T, path string) []age.Identity {
	t.Helper()
	ids, err := encrypt.LoadIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestRoundTripTwoReaders(t *testing.T) {
	alice, bob, eve := newReader(t, 1), newReader(t, 2), newReader(t, 3)
	// Bob's key is given in a file, as an ssh-ed25519 line.
	sshPub, err := ssh.NewPublicKey(bob.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	bobPub := filepath.Join(t.TempDir(), "bob.pub")
	if err := os.WriteFile(bobPub, ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := encrypt.ParseRecipients(alice.pub + "," + bobPub)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"marker":"secret-value"}`)
	c, err := encrypt.Encrypt(plain, rs)
	if err != nil {
		t.Fatal(err)
	}
	if !encrypt.IsEncrypted(c) || bytes.Contains(c, []byte("secret-value")) {
		t.Fatalf("ciphertext not recognised or holds the plaintext")
	}
	if encrypt.IsEncrypted(plain) {
		t.Fatal("plaintext recognised as encrypted")
	}
	for _, r := range []reader{alice, bob} {
		got, err := encrypt.Decrypt(c, identities(t, r.keyFile))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("reader %s: %q, %v", r.pub[:8], got, err)
		}
	}
	if _, err := encrypt.Decrypt(c, identities(t, eve.keyFile)); !errors.Is(err, encrypt.ErrNotReader) {
		t.Fatalf("non-reader: %v, want ErrNotReader", err)
	}
	// A flipped payload byte is detected.
	bad := bytes.Clone(c)
	bad[len(bad)-1] ^= 1
	if _, err := encrypt.Decrypt(bad, identities(t, alice.keyFile)); err == nil {
		t.Fatal("tampered ciphertext decrypted")
	}
}

func TestAgeKeys(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	idFile := filepath.Join(dir, "age.txt")
	if err := os.WriteFile(idFile, []byte("# created: now\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	qbc := newReader(t, 9)
	rs, err := encrypt.ParseRecipients(id.Recipient().String() + ", " + qbc.pub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := encrypt.Encrypt([]byte("x"), rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{idFile, qbc.keyFile} {
		if got, err := encrypt.Decrypt(c, identities(t, f)); err != nil || string(got) != "x" {
			t.Errorf("%s: %q, %v", filepath.Base(f), got, err)
		}
	}
	// A bare 64-hex key (a public key, or a node's seed) is no identity.
	bare := filepath.Join(dir, "bare")
	os.WriteFile(bare, []byte(qbc.pub+"\n"), 0o600)
	if _, err := encrypt.LoadIdentity(bare); !errors.Is(err, encrypt.ErrIdentity) || !strings.Contains(err.Error(), "public key is no identity") {
		t.Errorf("bare hex: %v", err)
	}
}

func TestParseRecipientsRefuses(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pub")
	os.WriteFile(empty, []byte("# nothing\n\n"), 0o644)
	k := newReader(t, 4)
	small := strings.Repeat("00", 32) // the identity point: small order
	for _, spec := range []string{"", " , ", "abc", small[:62], "age1xyz", "ssh-ed25519 AAAA", empty, "{\"public\":\"" + k.pub + "\"}",
		strings.TrimSuffix(strings.Repeat(k.pub+",", encrypt.MaxRecipients+1), ",")} {
		if _, err := encrypt.ParseRecipients(spec); !errors.Is(err, encrypt.ErrRecipient) {
			t.Errorf("%.40q: %v, want ErrRecipient", spec, err)
		}
	}
}

func TestLoadIdentityRefuses(t *testing.T) {
	dir := t.TempDir()
	k := newReader(t, 5)
	other := newReader(t, 6)
	cases := map[string]string{
		"garbage":    "hello",
		"mismatched": `{"public":"` + other.pub + `","private":"` + hex.EncodeToString(k.key.Seed()) + `"}`,
		"short":      `{"private":"abcd"}`,
		"badage":     "AGE-SECRET-KEY-1NOPE",
		"huge":       strings.Repeat("a", encrypt.MaxKeyFileSize+1),
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		_, err := encrypt.LoadIdentity(p)
		if !errors.Is(err, encrypt.ErrIdentity) {
			t.Errorf("%s: %v, want ErrIdentity", name, err)
		}
		if err != nil && len(content) > 8 && strings.Contains(err.Error(), content[8:]) {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
	if _, err := encrypt.LoadIdentity(filepath.Join(dir, "missing")); !errors.Is(err, encrypt.ErrIdentity) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	alice, bob, eve := newReader(t, 1), newReader(t, 2), newReader(t, 3)
	rs, err := encrypt.ParseRecipients(alice.pub + "," + bob.pub)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"patient":{"name":"Ada <Lovelace>","age":36},"visits":[{"note":"n1"},{"note":"n2"}],"ward":7,"big":12345678901234567890}`)
	fields := []string{"/patient/name", "/visits/1/note", "/absent/field"}
	enc, err := encrypt.EncryptFields(doc, fields, rs)
	if err != nil {
		t.Fatal(err)
	}
	// The values as JSON strings, quotes included: a ciphertext is
	// base64, which holds no quote, so "n2" alone would turn up in it by
	// chance (about one run in ten).
	for _, secret := range []string{`"Ada <Lovelace>"`, `"n2"`, "Lovelace"} {
		if bytes.Contains(enc, []byte(secret)) {
			t.Fatalf("%q readable in %s", secret, enc)
		}
	}
	if err := encrypt.CheckFieldsEncrypted(enc, fields); err != nil {
		t.Fatalf("check of the encrypted document: %v", err)
	}
	if err := encrypt.CheckFieldsEncrypted(doc, fields); !errors.Is(err, envelope.ErrNotEncrypted) || !strings.Contains(err.Error(), "/patient/name") {
		t.Fatalf("check of the plain document: %v", err)
	}
	want, _ := envelope.DecodeDocument(doc)
	for _, r := range []reader{alice, bob} {
		got, done, err := encrypt.DecryptFields(enc, identities(t, r.keyFile))
		if err != nil || strings.Join(done, " ") != "/patient/name /visits/1/note" {
			t.Fatalf("reader: %v, %v", done, err)
		}
		gv, _ := envelope.DecodeDocument(got)
		if !jsonEqual(gv, want) {
			t.Fatalf("decrypted %s, want %s", got, doc)
		}
	}
	got, done, err := encrypt.DecryptFields(enc, identities(t, eve.keyFile))
	if !errors.Is(err, encrypt.ErrNotReader) || len(done) != 0 || !bytes.Equal(got, enc) {
		t.Fatalf("non-reader: %v, %v", done, err)
	}
	stripped, err := encrypt.StripFields(enc, fields)
	if err != nil {
		t.Fatal(err)
	}
	if string(stripped) != `{"big":12345678901234567890,"patient":{"age":36},"visits":[{"note":"n1"},{}],"ward":7}` {
		t.Fatalf("stripped: %s", stripped)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := envelope.EncodeDocument(a)
	y, _ := envelope.EncodeDocument(b)
	return bytes.Equal(x, y)
}

func TestCheckFieldsRefuses(t *testing.T) {
	k := newReader(t, 1)
	rs, _ := encrypt.ParseRecipients(k.pub)
	c, _ := encrypt.Encrypt([]byte(`"v"`), rs)
	good := envelope.Field(c)
	for _, v := range []string{
		`"plain"`, `42`, `{"a":1}`, `null`, `"age:"`, `"age:!!!"`,
		`"age:` + envelope.Field([]byte("age-encryption.org/v1\n"))[4:] + `"`,
		`"` + good[:len(good)-8] + `"`, // truncated payload
	} {
		doc := []byte(`{"f":` + v + `}`)
		if err := encrypt.CheckFieldsEncrypted(doc, []string{"/f"}); !errors.Is(err, envelope.ErrNotEncrypted) || !strings.Contains(err.Error(), "/f") {
			t.Errorf("%s: %v", v, err)
		}
	}
	if err := encrypt.CheckFieldsEncrypted([]byte(`{"f":"`+good+`"}`), []string{"/f"}); err != nil {
		t.Errorf("encrypted field: %v", err)
	}
}
