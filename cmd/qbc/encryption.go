package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/encrypt"
	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
	"github.com/qbc-chain/qbc/internal/quant"
)

// The command-line glue of encryption to readers (package encrypt), shared
// by the commands that write values (inject, tx sign, tx send) and read
// them (tx get).

// encryptFlags are --encrypt-to and --encrypt-fields.
type encryptFlags struct {
	to, fields *string
}

// addEncryptFlags adds --encrypt-to and --encrypt-fields.
func (f *flags) addEncryptFlags() encryptFlags {
	return encryptFlags{
		to:     f.String("encrypt-to", "", "encrypt the value to these readers: comma-separated `keys` ('qbc keys public' output, ssh-ed25519, age1...) or files holding them"),
		fields: f.String("encrypt-fields", "", "with --encrypt-to, encrypt only the JSON fields at these comma-separated `pointers` (/patient/name,/notes), leaving the value JSON"),
	}
}

// valueEncrypter encrypts a command's values as its flags ask; the zero
// value (no --encrypt-to) leaves them as they are.
type valueEncrypter struct {
	recipients []age.Recipient
	fields     []string // nil: the whole value
}

// encrypter checks the flags and reads the recipients.
func (ef encryptFlags) encrypter(name string) (valueEncrypter, error) {
	if *ef.to == "" {
		if *ef.fields != "" {
			return valueEncrypter{}, usagef("%s: --encrypt-fields needs --encrypt-to (the readers)", name)
		}
		return valueEncrypter{}, nil
	}
	rs, err := encrypt.ParseRecipients(*ef.to)
	if err != nil {
		return valueEncrypter{}, usagef("%s: --encrypt-to: %v", name, err)
	}
	var fields []string
	if *ef.fields != "" {
		fields = strings.Split(*ef.fields, ",")
		if _, err := encrypt.ParseFields(fields); err != nil {
			return valueEncrypter{}, usagef("%s: --encrypt-fields: %v", name, err)
		}
	}
	return valueEncrypter{recipients: rs, fields: fields}, nil
}

// on reports whether values are encrypted.
func (v valueEncrypter) on() bool { return len(v.recipients) > 0 }

// apply encrypts a JSON payload (compact): with fields, to the JSON with
// those fields encrypted; without, the whole value to an age file, a
// bytes payload. Without recipients it returns data as JSON.
func (v valueEncrypter) apply(data []byte) (quant.DataKind, []byte, error) {
	if !v.on() {
		return quant.DataJSON, data, nil
	}
	if v.fields == nil {
		c, err := encrypt.Encrypt(data, v.recipients)
		return quant.DataBytes, c, err
	}
	out, err := encrypt.EncryptFields(data, v.fields, v.recipients)
	if err != nil {
		return 0, nil, err
	}
	out, err = quant.CompactJSON(out)
	return quant.DataJSON, out, err
}

// applyTx encrypts an unsigned transaction's JSON payload in place. A
// signed transaction cannot change (its signature covers the payload), so
// it is an error: encrypt before signing.
func (v valueEncrypter) applyTx(tx *quant.Tx) error {
	if !v.on() {
		return nil
	}
	if tx.Signed() {
		return errors.New("it is signed, and encrypting would break its signature: encrypt when signing ('qbc tx sign --encrypt-to')")
	}
	if tx.Kind != quant.DataJSON {
		return errors.New("its payload is bytes: only a JSON value is encrypted")
	}
	kind, data, err := v.apply(tx.Data)
	if err != nil {
		return err
	}
	tx.Kind, tx.Data = kind, data
	return nil
}

// newTx makes a transaction for chain with a payload of kind, stamped
// timeMs and nonce, and signed with key unless key is nil.
func newTx(chain quant.Hash, kind quant.DataKind, data []byte, key ed25519.PrivateKey, timeMs int64, nonce uint64) *quant.Tx {
	tx := &quant.Tx{ChainID: chain, Time: timeMs, Nonce: nonce, Kind: kind, Data: data}
	if key != nil {
		tx.Sign(key)
	}
	return tx
}

// loadIdentities reads the --identity files (comma-separated); nil for
// none.
func loadIdentities(name, spec string) ([]age.Identity, error) {
	var ids []age.Identity
	for path := range strings.SplitSeq(spec, ",") {
		if path = strings.TrimSpace(path); path == "" {
			continue
		}
		got, err := encrypt.LoadIdentity(path)
		if err != nil {
			return nil, usagef("%s: --identity: %v", name, err)
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// decryptTx decrypts what it can of a transaction as the API shows it: a
// bytes payload that is an age file becomes its value (JSON if it is
// JSON), and in a JSON payload every encrypted field the identities open
// becomes its value. It returns the JSON pointers of what it decrypted (""
// for the whole value). An error wraps encrypt.ErrNotReader when there
// was something encrypted and the identities opened none of it; when they
// opened some, the error names the rest and t holds what was decrypted.
func decryptTx(t *api.Tx, ids []age.Identity) ([]string, error) {
	switch t.Kind {
	case api.KindBytes:
		var s string
		if err := json.Unmarshal(t.Data, &s); err != nil {
			return nil, nil
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !encrypt.IsEncrypted(b) {
			return nil, nil
		}
		plain, err := encrypt.Decrypt(b, ids)
		if err != nil {
			return nil, fmt.Errorf("the value: %w", err)
		}
		if c, err := quant.CompactJSON(plain); err == nil {
			t.Kind, t.Data = api.KindJSON, c
		} else {
			t.Data, _ = json.Marshal(base64.StdEncoding.EncodeToString(plain))
		}
		return []string{""}, nil
	case api.KindJSON:
		out, done, err := encrypt.DecryptFields(t.Data, ids)
		if errors.Is(err, envelope.ErrDocument) {
			return nil, nil // beyond the bounds (or names a member twice): shown as it is
		}
		if out != nil && len(done) > 0 {
			t.Data = out
		}
		return done, err
	}
	return nil, nil
}
