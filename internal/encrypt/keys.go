package encrypt

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// Bounds on what ParseRecipients and LoadIdentity read.
const (
	// MaxKeyFileSize bounds a recipient or identity file.
	MaxKeyFileSize = 64 << 10
	// MaxRecipients bounds the readers of one value.
	MaxRecipients = 64
)

// Errors of this package.
var (
	// ErrRecipient is wrapped by ParseRecipients' errors.
	ErrRecipient = errors.New("encrypt: bad recipient")
	// ErrIdentity is wrapped by LoadIdentity's errors.
	ErrIdentity = errors.New("encrypt: bad identity")
	// ErrNotReader is wrapped by the errors of Decrypt and DecryptFields
	// when no identity given can open a value: the value is encrypted to
	// other readers.
	ErrNotReader = errors.New("encrypt: not a reader of this value (no identity matches)")
)

// ParseRecipients parses a comma-separated list of readers. Each item is
// either the name of a file that holds recipients, one a line (blank lines
// and lines starting with # skipped), or a recipient itself: a 64-hex
// Ed25519 public key (what 'qbc keys public' prints), an "ssh-ed25519
// AAAA..." line, or an age X25519 recipient ("age1..."). An item that
// names an existing file is read as one.
func ParseRecipients(spec string) ([]age.Recipient, error) {
	var rs []age.Recipient
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lines := []string{item}
		if st, err := os.Stat(item); err == nil && st.Mode().IsRegular() {
			b, err := readBounded(item)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrRecipient, err)
			}
			if lines, err = keyLines(b); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrRecipient, item, err)
			}
			if len(lines) == 0 {
				return nil, fmt.Errorf("%w: %s holds no recipient", ErrRecipient, item)
			}
		}
		for _, l := range lines {
			r, err := parseRecipient(l)
			if err != nil {
				return nil, fmt.Errorf("%w: %s", ErrRecipient, err)
			}
			rs = append(rs, r)
		}
		if len(rs) > MaxRecipients {
			return nil, fmt.Errorf("%w: more than %d recipients", ErrRecipient, MaxRecipients)
		}
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: no recipient given", ErrRecipient)
	}
	return rs, nil
}

// parseRecipient parses one recipient; its errors quote at most a prefix
// of s, and nothing of what looks like a secret.
func parseRecipient(s string) (age.Recipient, error) {
	switch {
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", short(s), err)
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-ed25519 "):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", short(s), err)
		}
		return r, nil
	case strings.HasPrefix(s, "{"):
		// Not quoted: it may be a key file's private part.
		return nil, errors.New("a value that looks like a key file: give its public key ('qbc keys public FILE')")
	case strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY-"):
		return nil, errors.New("an age identity (a secret key) is not a recipient: give its public key (age-keygen -y)")
	}
	k, err := hex.DecodeString(s)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%s: not a file, a 64-hex Ed25519 public key, an ssh-ed25519 key or an age1 recipient", short(s))
	}
	return ed25519Recipient(ed25519.PublicKey(k))
}

// ed25519Recipient converts an Ed25519 public key to an age recipient, as
// age's ssh-ed25519 recipients do.
func ed25519Recipient(k ed25519.PublicKey) (age.Recipient, error) {
	pk, err := ssh.NewPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("%x: %v", []byte(k), err)
	}
	r, err := agessh.NewEd25519Recipient(pk)
	if err != nil {
		return nil, fmt.Errorf("%x: %v", []byte(k), err)
	}
	return r, nil
}

// Recipient returns the age recipient of an Ed25519 public key.
func Recipient(k ed25519.PublicKey) (age.Recipient, error) {
	r, err := ed25519Recipient(k)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecipient, err)
	}
	return r, nil
}

// Identity returns the age identity of an Ed25519 private key: the reader
// of values encrypted to its public key.
func Identity(key ed25519.PrivateKey) (age.Identity, error) {
	id, err := agessh.NewEd25519Identity(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	return id, nil
}

// qbcKeyFile is the JSON of a key file 'qbc keys new' writes.
type qbcKeyFile struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// LoadIdentity reads the identities in a file: a qbc key file
// ({"public": HEX, "private": HEX}, the private part the 32-byte seed) or
// an age identity file (lines of "AGE-SECRET-KEY-1..."). A node's key file
// (a bare hex seed) is refused: it cannot be told from a public key
// written to a file, and a node's key is for its peers, not a reader's.
// Its errors never quote the file's content.
func LoadIdentity(path string) ([]age.Identity, error) {
	b, err := readBounded(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrIdentity, err)
	}
	t := bytes.TrimSpace(b)
	switch {
	case bytes.HasPrefix(t, []byte("{")):
		var kf qbcKeyFile
		if err := json.Unmarshal(t, &kf); err != nil {
			return nil, fmt.Errorf("%w: %s: not a key file", ErrIdentity, path)
		}
		key, err := keyFromSeed(kf.Private)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: private: %v", ErrIdentity, path, err)
		}
		if kf.Public != "" && !strings.EqualFold(kf.Public, hex.EncodeToString(key.Public().(ed25519.PublicKey))) {
			return nil, fmt.Errorf("%w: %s: public does not belong to private", ErrIdentity, path)
		}
		id, err := Identity(key)
		if err != nil {
			return nil, err
		}
		return []age.Identity{id}, nil
	case bytes.Contains(t, []byte("AGE-SECRET-KEY-")):
		ids, err := age.ParseIdentities(bytes.NewReader(t))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrIdentity, path, err)
		}
		return ids, nil
	}
	if k, err := hex.DecodeString(string(t)); err == nil && len(k) == ed25519.PublicKeySize {
		// A node's key file is a bare hex seed, but so is what 'qbc keys
		// public' prints: taking it as a seed would make a wrong identity
		// quietly, so neither is one.
		return nil, fmt.Errorf("%w: %s holds a bare 64-hex key: a public key is no identity (give the key file of 'qbc keys new')", ErrIdentity, path)
	}
	return nil, fmt.Errorf("%w: %s: not a qbc key file or an age identity file", ErrIdentity, path)
}

// keyFromSeed decodes a hex Ed25519 seed.
func keyFromSeed(s string) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("want %d hex characters", 2*ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// readBounded reads a file of at most MaxKeyFileSize bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxKeyFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxKeyFileSize)
	}
	return b, nil
}

// keyLines returns the lines of a recipients file that are not blank or
// comments.
func keyLines(b []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), MaxKeyFileSize)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// short returns s, or its first characters, for an error message.
func short(s string) string {
	if len(s) > 24 {
		return fmt.Sprintf("%q...", s[:24])
	}
	return fmt.Sprintf("%q", s)
}
