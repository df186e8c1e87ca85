package encrypt_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"filippo.io/age"

	"github.com/qbc-chain/qbc/internal/encrypt"
	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
)

func fuzzIdentity(f *testing.F) (age.Identity, age.Recipient) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	id, err := encrypt.Identity(key)
	if err != nil {
		f.Fatal(err)
	}
	r, err := encrypt.Recipient(key.Public().(ed25519.PublicKey))
	if err != nil {
		f.Fatal(err)
	}
	return id, r
}

// FuzzDecrypt feeds Decrypt arbitrary files: it must not panic, and what
// it opens must be what was encrypted when the file is untouched.
func FuzzDecrypt(f *testing.F) {
	id, r := fuzzIdentity(f)
	c, err := encrypt.Encrypt([]byte(`{"a":1}`), []age.Recipient{r})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c)
	f.Add(c[:len(c)-1])
	f.Add([]byte("age-encryption.org/v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := encrypt.Decrypt(b, []age.Identity{id})
		if err == nil && bytes.Equal(b, c) && string(got) != `{"a":1}` {
			t.Fatalf("decrypted %q", got)
		}
	})
}

// FuzzDecryptFields feeds DecryptFields arbitrary documents: no panic, and
// a document without encrypted fields comes back as EncodeDocument gives
// it.
func FuzzDecryptFields(f *testing.F) {
	id, r := fuzzIdentity(f)
	enc, err := encrypt.EncryptFields([]byte(`{"a":{"b":"x"},"c":[1,"y"]}`), []string{"/a/b", "/c/1"}, []age.Recipient{r})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add([]byte(`{"a":"age:AAAA"}`))
	f.Add([]byte(`[[["age:"]]]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, done, err := encrypt.DecryptFields(doc, []age.Identity{id})
		if out == nil {
			return
		}
		if _, derr := envelope.DecodeDocument(out); derr != nil {
			t.Fatalf("output does not decode: %v", derr)
		}
		if len(done) == 0 && err == nil {
			v, _ := envelope.DecodeDocument(doc)
			want, _ := envelope.EncodeDocument(v)
			if !bytes.Equal(out, want) {
				t.Fatalf("nothing decrypted but %q became %q", doc, out)
			}
		}
	})
}
