package envelope

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// FieldPrefix starts an encrypted field's string: "age:" and the standard
// base64 (padded) of an age file.
const FieldPrefix = "age:"

// Errors of the envelope checks.
var (
	// ErrNotAge is wrapped by IsAge's callers' errors for bytes that are
	// not an age file.
	ErrNotAge = errors.New("envelope: not an age file")
	// ErrNotEncrypted is wrapped by CheckFields' errors for a listed field
	// that is present and not an encrypted field.
	ErrNotEncrypted = errors.New("envelope: field is not encrypted")
)

// The parts of an age file (age-encryption.org/v1): a version line,
// recipient stanzas ("-> type args", then the body in base64 lines of 64
// columns, the last shorter), the MAC line ("--- " and 43 base64
// characters), then the payload: a 16-byte nonce and at least one chunk of
// at least the 16-byte tag.
const (
	ageIntro      = "age-encryption.org/v1\n"
	ageColumns    = 64
	ageMACLen     = 43
	ageMinPayload = 16 + 16
	// maxStanzas bounds the recipients of a file this package accepts.
	maxStanzas = 256
)

// IsAge reports whether b is structurally an age file: ParseAgeHeader
// succeeds and the payload is long enough. It does not keep b.
func IsAge(b []byte) bool {
	n, err := ParseAgeHeader(b)
	return err == nil && len(b)-n >= ageMinPayload
}

// ParseAgeHeader checks the header of an age file and returns its length
// in bytes. It reads at most len(b) bytes and allocates nothing per line.
func ParseAgeHeader(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte(ageIntro)) {
		return 0, fmt.Errorf("%w: no age-encryption.org/v1 line", ErrNotAge)
	}
	off := len(ageIntro)
	stanzas := 0
	for {
		line, next, ok := nextLine(b, off)
		if !ok {
			return 0, fmt.Errorf("%w: header ends without a MAC line", ErrNotAge)
		}
		if rest, ok := strings.CutPrefix(string(line), "--- "); ok {
			if stanzas == 0 {
				return 0, fmt.Errorf("%w: no recipient stanza", ErrNotAge)
			}
			if len(rest) != ageMACLen || !isBase64(rest) {
				return 0, fmt.Errorf("%w: bad MAC line", ErrNotAge)
			}
			return next, nil
		}
		rest, ok := strings.CutPrefix(string(line), "-> ")
		if !ok || !validArgs(rest) {
			return 0, fmt.Errorf("%w: bad stanza line", ErrNotAge)
		}
		if stanzas++; stanzas > maxStanzas {
			return 0, fmt.Errorf("%w: more than %d stanzas", ErrNotAge, maxStanzas)
		}
		off = next
		for {
			body, next, ok := nextLine(b, off)
			if !ok || len(body) > ageColumns || !isBase64(string(body)) {
				return 0, fmt.Errorf("%w: bad stanza body", ErrNotAge)
			}
			off = next
			if len(body) < ageColumns {
				break
			}
		}
	}
}

// nextLine returns the line of b starting at off, without its newline,
// and the offset after the newline; false if there is no newline.
func nextLine(b []byte, off int) ([]byte, int, bool) {
	i := bytes.IndexByte(b[off:], '\n')
	if i < 0 {
		return nil, 0, false
	}
	return b[off : off+i], off + i + 1, true
}

// validArgs reports whether s is one or more space-separated arguments of
// visible ASCII.
func validArgs(s string) bool {
	if s == "" {
		return false
	}
	for _, a := range strings.Split(s, " ") {
		if a == "" {
			return false
		}
		for i := 0; i < len(a); i++ {
			if a[i] < 0x21 || a[i] > 0x7e {
				return false
			}
		}
	}
	return true
}

// isBase64 reports whether s is unpadded standard base64.
func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return len(s)%4 != 1
}

// Field returns the string an encrypted field holds for the age file b.
func Field(b []byte) string {
	return FieldPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseField returns the age file an encrypted field's value holds: v must
// be a string of FieldPrefix and padded standard base64 of bytes that
// IsAge accepts.
func ParseField(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: not a string", ErrNotEncrypted)
	}
	enc, ok := strings.CutPrefix(s, FieldPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: the string does not start with %q", ErrNotEncrypted, FieldPrefix)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64 after %q", ErrNotEncrypted, FieldPrefix)
	}
	if !IsAge(b) {
		return nil, fmt.Errorf("%w: not an age file after %q", ErrNotEncrypted, FieldPrefix)
	}
	return b, nil
}

// CheckFields requires every field of doc (JSON) that a pointer names and
// that is present to be an encrypted field (ParseField); an error names
// the first pointer that is not, and wraps ErrNotEncrypted (or
// ErrDocument when doc is not a JSON document this package decodes).
// Absent fields pass: a field that is not there leaks nothing. It does not
// keep doc.
func CheckFields(doc []byte, pointers []Pointer) error {
	v, err := DecodeDocument(doc)
	if err != nil {
		return err
	}
	for _, p := range pointers {
		f, ok := Get(v, p)
		if !ok {
			continue
		}
		if _, err := ParseField(f); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// Strip returns doc (JSON) without the fields the pointers name (an
// object's member deleted, an array's element made null), for checking the
// rest against a schema. It does not keep doc.
func Strip(doc []byte, pointers []Pointer) ([]byte, error) {
	v, err := DecodeDocument(doc)
	if err != nil {
		return nil, err
	}
	for _, p := range pointers {
		remove(v, p)
	}
	return EncodeDocument(v)
}
