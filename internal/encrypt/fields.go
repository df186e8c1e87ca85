package encrypt

import (
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
)

// MaxFields bounds the pointers of one EncryptFields call, and of a
// chain's encrypted_fields.
const MaxFields = 32

// ParseFields parses a list of field pointers as a chain's rules or the
// command line give them: at most MaxFields, none the whole document, none
// inside another.
func ParseFields(pointers []string) ([]envelope.Pointer, error) {
	return envelope.ParseFieldPointers(pointers, MaxFields)
}

// EncryptFields returns doc (JSON) with each field a pointer names
// replaced by an encrypted field: the string "age:" + base64 of the age
// file of the field's value as compact JSON, encrypted to the recipients.
// Fields that are absent are skipped. The output is compact, its object
// members sorted by key. It does not keep doc.
func EncryptFields(doc []byte, pointers []string, recipients []age.Recipient) ([]byte, error) {
	ps, err := ParseFields(pointers)
	if err != nil {
		return nil, err
	}
	v, err := envelope.DecodeDocument(doc)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		f, ok := envelope.Get(v, p)
		if !ok {
			continue
		}
		plain, err := envelope.EncodeDocument(f)
		if err != nil {
			return nil, err
		}
		c, err := Encrypt(plain, recipients)
		if err != nil {
			return nil, err
		}
		envelope.Set(v, p, envelope.Field(c))
	}
	return envelope.EncodeDocument(v)
}

// DecryptFields returns doc (JSON) with every encrypted field (a string
// that envelope.ParseField accepts, anywhere in the document) that one of
// the identities opens replaced by its value, and the pointers of the
// fields it decrypted. Fields it cannot open stay as they are; the error
// then wraps ErrNotReader and names them, and the document is still
// returned. It does not keep doc.
func DecryptFields(doc []byte, identities []age.Identity) ([]byte, []string, error) {
	v, err := envelope.DecodeDocument(doc)
	if err != nil {
		return nil, nil, err
	}
	d := fieldDecrypter{ids: identities}
	v = d.walk(v, nil)
	out, err := envelope.EncodeDocument(v)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(d.done)
	if len(d.failed) > 0 {
		slices.Sort(d.failed)
		return out, d.done, fmt.Errorf("fields %s: %w", strings.Join(d.failed, ", "), d.err)
	}
	return out, d.done, nil
}

// fieldDecrypter walks a decoded document, decrypting encrypted fields.
type fieldDecrypter struct {
	ids          []age.Identity
	done, failed []string
	err          error // the first failure
}

// walk returns v with the encrypted fields in it decrypted; at is v's
// pointer.
func (d *fieldDecrypter) walk(v any, at envelope.Pointer) any {
	switch c := v.(type) {
	case map[string]any:
		for k, e := range c {
			c[k] = d.walk(e, append(at[:len(at):len(at)], k))
		}
	case []any:
		for i, e := range c {
			c[i] = d.walk(e, append(at[:len(at):len(at)], fmt.Sprint(i)))
		}
	case string:
		b, err := envelope.ParseField(c)
		if err != nil {
			return v
		}
		plain, err := Decrypt(b, d.ids)
		if err == nil {
			var f any
			if f, err = envelope.DecodeDocument(plain); err == nil {
				d.done = append(d.done, at.String())
				return f
			}
		}
		d.failed = append(d.failed, at.String())
		if d.err == nil {
			d.err = err
		}
	}
	return v
}

// CheckFieldsEncrypted requires every field of doc (JSON) that a pointer
// names, and that is present, to be an encrypted field; an error names the
// first that is not and wraps envelope.ErrNotEncrypted. It is what a node
// checks (envelope.CheckFields), here for clients. It does not keep doc.
func CheckFieldsEncrypted(doc []byte, pointers []string) error {
	ps, err := ParseFields(pointers)
	if err != nil {
		return err
	}
	return envelope.CheckFields(doc, ps)
}

// StripFields returns doc (JSON) without the fields the pointers name, for
// checking the rest against a schema (envelope.Strip). It does not keep
// doc.
func StripFields(doc []byte, pointers []string) ([]byte, error) {
	ps, err := ParseFields(pointers)
	if err != nil {
		return nil, err
	}
	return envelope.Strip(doc, ps)
}
