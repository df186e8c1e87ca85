package chain

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"filippo.io/age"

	"github.com/qbc-chain/qbc/internal/encrypt"
	"github.com/qbc-chain/qbc/internal/quant"
)

// encryptedDoc returns doc with fields encrypted to a fresh reader.
func encryptedDoc(t *testing.T, doc string, fields ...string) string {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	r, err := encrypt.Recipient(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	out, err := encrypt.EncryptFields([]byte(doc), fields, []age.Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	c, err := quant.CompactJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

// field returns the encrypted /patient/name of doc, as JSON.
func field(t *testing.T, doc string) string {
	t.Helper()
	var v struct {
		Patient struct{ Name json.RawMessage }
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil || len(v.Patient.Name) == 0 {
		t.Fatalf("no /patient/name in %s: %v", doc, err)
	}
	return string(v.Patient.Name)
}

// TestEncryptedFields: on a chain whose rules list encrypted_fields, a
// JSON transaction with a listed field in plaintext is refused
// (not_encrypted) at admission and in a quant from elsewhere; with the
// field encrypted it passes, and the schema applies to the rest: it would
// refuse the ciphertext where it expects the plaintext's shape (an
// object), and still refuses the rest when the rest is wrong.
func TestEncryptedFields(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) {
		r.EncryptedFields = []string{"/patient/name", "/notes"}
		r.Schema = json.RawMessage(`{"type":"object","required":["ward"],"properties":{
			"ward":{"type":"integer"},
			"patient":{"type":"object","properties":{"name":{"type":"object"}}},
			"notes":{"type":"array"}}}`)
	})
	plain := `{"notes":["n"],"patient":{"name":{"first":"Ada"}},"ward":7}`
	good := encryptedDoc(t, plain, "/patient/name", "/notes")
	cases := []struct {
		name, data string
		want       quant.Code
	}{
		{"all encrypted", good, ""},
		{"listed fields absent", `{"patient":{},"ward":7}`, ""},
		{"name in plaintext", encryptedDoc(t, plain, "/notes"), quant.CodeNotEncrypted},
		{"notes in plaintext", encryptedDoc(t, plain, "/patient/name"), quant.CodeNotEncrypted},
		{"nothing encrypted", plain, quant.CodeNotEncrypted},
		{"a string that is no age file", `{"patient":{"name":"age:QUJD"},"ward":7}`, quant.CodeNotEncrypted},
		// A member named twice: a check that kept the last one would pass
		// while the first, in plaintext, is stored.
		{"plaintext beside its ciphertext", `{"patient":{"name":"Ada","name":` + field(t, good) + `},"ward":7}`, quant.CodeBadData},
		{"rest breaks the schema", encryptedDoc(t, `{"patient":{"name":"Ada"},"ward":"seven"}`, "/patient/name"), quant.CodeBadData},
	}
	for _, tc := range cases {
		tx := f.tx(tc.data, false)
		if err := f.c.CheckTx(tx, tx.ID()); quant.CodeOf(err) != tc.want {
			t.Errorf("%s: CheckTx %v, want %q", tc.name, err, tc.want)
		}
		if tc.want == "" {
			continue
		}
		// The same transaction in a quant made elsewhere is refused too,
		// and the tip does not move.
		tip := f.c.Tip().Hash
		if _, err := f.c.Add(f.quant([]*quant.Tx{f.tx(tc.data, false)}, nil)); quant.CodeOf(err) != tc.want {
			t.Errorf("%s: Add %v, want %q", tc.name, err, tc.want)
		}
		if f.c.Tip().Hash != tip {
			t.Fatalf("%s: the tip moved", tc.name)
		}
	}
	f.add(f.quant([]*quant.Tx{f.tx(good, false)}, nil))
}

// TestEncryptedFieldsBytes: without a schema, a chain with
// encrypted_fields takes a bytes payload only if it is an age file (a
// whole value encrypted), since it cannot see fields in opaque bytes.
func TestEncryptedFieldsBytes(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) { r.EncryptedFields = []string{"/secret"} })
	_, key, _ := ed25519.GenerateKey(nil)
	r, _ := encrypt.Recipient(key.Public().(ed25519.PublicKey))
	c, err := encrypt.Encrypt([]byte(`{"secret":1}`), []age.Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data []byte
		want quant.Code
	}{{c, ""}, {[]byte(`{"secret":1}`), quant.CodeNotEncrypted}} {
		tx := f.tx("", false)
		tx.Kind, tx.Data = quant.DataBytes, tc.data
		if err := f.c.CheckTx(tx, tx.ID()); quant.CodeOf(err) != tc.want {
			t.Errorf("bytes %.12q: %v, want %q", tc.data, err, tc.want)
		}
	}
	// Other chains take plain bytes as before.
	g := newFixture(t, nil)
	tx := g.tx("", false)
	tx.Kind, tx.Data = quant.DataBytes, []byte("plain")
	if err := g.c.CheckTx(tx, tx.ID()); err != nil {
		t.Errorf("plain bytes on a chain without encrypted_fields: %v", err)
	}
}
