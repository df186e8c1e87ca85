package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/qbc-chain/qbc/internal/peer"
)

const keysHelp = `Usage: qbc keys SUBCOMMAND [flags]

Make and read Ed25519 key files, which sign transactions (qbc inject --key,
qbc tx sign --key). A key file is JSON: {"public": HEX, "private": HEX}, the
private part being the 32-byte seed; it is written with mode 0600.

Subcommands:
  new      make a key
  public   print a key file's public key
`

const keysExample = `qbc keys new --out writer.key
qbc keys public writer.key`

func runKeys(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, args, "keys", keysHelp, keysExample, keysCommands())
}

func keysCommands() []command {
	return []command{
		{"new", "make a key", runKeysNew},
		{"public", "print a key file's public key", runKeysPublic},
	}
}

// runGroup dispatches a command that has subcommands (qbc keys, qbc tx).
func runGroup(ctx context.Context, e *env, args []string, name, help, example string, subs []command) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags(e, name, help, example)
		if _, err := fs.parse(args); err != nil {
			return err
		}
		return usagef("%s: missing subcommand\nRun 'qbc %s --help' for usage.", name, name)
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	return usagef("%s: unknown subcommand %q\nRun 'qbc %s --help' for usage.", name, args[0], name)
}

// keyFile is the JSON of a key file.
type keyFile struct {
	Public  string `json:"public"`
	Private string `json:"private"`
}

// marshalKey returns the key file JSON of key.
func marshalKey(key ed25519.PrivateKey) []byte {
	b, _ := json.MarshalIndent(keyFile{
		Public:  hex.EncodeToString(key.Public().(ed25519.PublicKey)),
		Private: hex.EncodeToString(key.Seed()),
	}, "", "  ")
	return append(b, '\n')
}

// loadKey reads a key file, checking that its public key is its private
// key's.
func loadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		// A node's own key (DATA_DIR/node.key) is the bare hex seed.
		if key, nerr := peer.ParseNodeKey(b); nerr == nil {
			return key, nil
		}
		return nil, fmt.Errorf("key %s: not a key file: %v", path, err)
	}
	seed, err := hex.DecodeString(kf.Private)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("key %s: private: want %d hex characters", path, 2*ed25519.SeedSize)
	}
	key := ed25519.NewKeyFromSeed(seed)
	if kf.Public != "" && !strings.EqualFold(kf.Public, hex.EncodeToString(key.Public().(ed25519.PublicKey))) {
		return nil, fmt.Errorf("key %s: public does not belong to private", path)
	}
	return key, nil
}

// saveKey writes a new key file with mode 0600; it never overwrites one.
func saveKey(path string, key ed25519.PrivateKey) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("key: %s exists; not overwriting a key", path)
		}
		return fmt.Errorf("key: %w", err)
	}
	if _, err := f.Write(marshalKey(key)); err != nil {
		f.Close()
		return fmt.Errorf("key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("key: %w", err)
	}
	return f.Close()
}
