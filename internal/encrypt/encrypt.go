package encrypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/qbc-chain/qbc/internal/encrypt/envelope"
)

// MaxValueSize bounds a value Decrypt returns (and so how much it reads).
const MaxValueSize = envelope.MaxDocSize

// Encrypt encrypts plain to the recipients and returns the age file, in
// age's binary format. It does not keep plain.
func Encrypt(plain []byte, recipients []age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, fmt.Errorf("%w: no recipient given", ErrRecipient)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// IsEncrypted reports whether b is an age file, by its header (see
// envelope.IsAge); it does not decrypt. It does not keep b.
func IsEncrypted(b []byte) bool { return envelope.IsAge(b) }

// Decrypt decrypts an age file with the first identity that opens it. An
// error wraps ErrNotReader when none does; a value larger than
// MaxValueSize is an error. It does not keep b.
func Decrypt(b []byte, identities []age.Identity) ([]byte, error) {
	if !IsEncrypted(b) {
		return nil, fmt.Errorf("encrypt: %w", envelope.ErrNotAge)
	}
	r, err := age.Decrypt(bytes.NewReader(b), identities...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, ErrNotReader
		}
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxValueSize+1))
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if len(out) > MaxValueSize {
		return nil, fmt.Errorf("encrypt: value larger than %d bytes", MaxValueSize)
	}
	return out, nil
}
