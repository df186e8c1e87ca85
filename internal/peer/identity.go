package peer

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/qbc-chain/qbc/internal/atomicfile"
)

// IDSize is the size of a node id.
const IDSize = 20

// ID identifies a node: the first 20 bytes of SHA-256 of its public key.
type ID [IDSize]byte

// IDOf returns the id of a public key.
func IDOf(pub ed25519.PublicKey) ID {
	sum := sha256.Sum256(pub)
	var id ID
	copy(id[:], sum[:IDSize])
	return id
}

// String is the id in hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText writes the id as hex.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// KeyFile is the node key's file name in the data directory.
const KeyFile = "node.key"

// LoadOrCreateKey reads the node key from dir/node.key (the hex Ed25519
// seed), making one on first start (mode 0600).
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseNodeKey(b)
		if err != nil {
			return nil, fmt.Errorf("peer: %s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("peer: node key: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("peer: node key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParseNodeKey reads a node key file's content: the hex Ed25519 seed.
func ParseNodeKey(b []byte) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("not a hex Ed25519 seed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParseKeys parses hex Ed25519 public keys (a closed network's members).
func ParseKeys(hexKeys []string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for i, h := range hexKeys {
		k, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("peer: key %d (%q) is not a hex Ed25519 public key", i, h)
		}
		out = append(out, ed25519.PublicKey(k))
	}
	return out, nil
}
