package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/zk"
)

const zkHelp = `Usage: qbc zk SUBCOMMAND [flags]

Zero-knowledge access with Groth16 proofs on BN254 (docs/zk.md): keys for
the three circuits (membership of a group, knowledge of a secret, a hidden
value in a range), identities, group joins, offline proofs and checks.
Writes and reads with proofs are 'qbc record put/get --zk-...'.

Subcommands:
  setup     make a circuit's proving and verifying keys (one party: development)
  mpc       multi-party setup: init, contribute, verify, finish
  rules     print the zk section of a chain's rules for a key directory
  identity  make a member identity (a secret) and print its commitment
  join      add a member's commitment to a group (signed by an admin)
  prove     make a standalone proof bound to a message
  verify    check a standalone proof offline
`

const zkExample = `qbc zk setup --circuit membership --depth 20 --out keys
qbc zk identity new --out me.id
qbc zk join --key admin.key --group club $(qbc zk identity commitment me.id)`

func runZK(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, args, "zk", zkHelp, zkExample, []command{
		{"setup", "make a circuit's keys", runZKSetup},
		{"mpc", "multi-party setup", runZKMPC},
		{"rules", "print the zk rules for a key directory", runZKRules},
		{"identity", "make or read a member identity", runZKIdentity},
		{"join", "add a member to a group", runZKJoin},
		{"prove", "make a standalone proof", runZKProve},
		{"verify", "check a standalone proof offline", runZKVerify},
	})
}

// identityFile is the JSON of an identity file (mode 0600): the secret
// never leaves it; the commitment is what a group lists.
type identityFile struct {
	Secret     string `json:"secret"`
	Commitment string `json:"commitment"`
}

func saveIdentity(path string, secret zk.Field) error {
	b, _ := json.MarshalIndent(identityFile{Secret: secret.String(), Commitment: zk.Commitment(secret).String()}, "", "  ")
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: not overwriting a secret", path)
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

func loadIdentity(path string) (zk.Field, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return zk.Field{}, err
	}
	var f identityFile
	if err := json.Unmarshal(b, &f); err != nil {
		return zk.Field{}, fmt.Errorf("%s: not an identity file: %v", path, err)
	}
	s, err := zk.ParseFieldHex(f.Secret)
	if err != nil {
		return zk.Field{}, fmt.Errorf("%s: secret: %v", path, err)
	}
	return s, nil
}

// loadLocalKeys reads dir/{circuit}.pk and .vk (written by setup or mpc
// finish).
func loadLocalKeys(dir string, c zk.Circuit, depth int) (*zk.Keys, []byte, error) {
	pb, err := os.ReadFile(filepath.Join(dir, c.String()+".pk"))
	if err != nil {
		return nil, nil, err
	}
	vb, err := os.ReadFile(filepath.Join(dir, c.String()+".vk"))
	if err != nil {
		return nil, nil, err
	}
	vk, err := zk.DecodeVerifyingKey(vb)
	if err != nil {
		return nil, nil, err
	}
	pk, err := zk.DecodeProvingKey(pb, zk.KeyHash(pb))
	if err != nil {
		return nil, nil, err
	}
	return &zk.Keys{Circuit: c, Depth: depth, PK: pk, VK: vk}, pb, nil
}

// writeKeys writes k's keys as dir/{circuit}.pk and .vk.
func writeKeys(dir string, k *zk.Keys) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, k.Circuit.String()+".pk"), zk.EncodeProvingKey(k.PK), 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, k.Circuit.String()+".vk"), zk.EncodeVerifyingKey(k.VK), 0o644); err != nil {
		return err
	}
	meta, _ := json.Marshal(map[string]int{"depth": k.Depth})
	return atomicfile.Write(filepath.Join(dir, k.Circuit.String()+".json"), meta, 0o644)
}

// keyDepth reads the depth written beside a key (0 if none).
func keyDepth(dir string, c zk.Circuit) int {
	b, err := os.ReadFile(filepath.Join(dir, c.String()+".json"))
	if err != nil {
		return 0
	}
	var m struct{ Depth int }
	json.Unmarshal(b, &m)
	return m.Depth
}
