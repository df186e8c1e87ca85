package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

const recordHelp = `Usage: qbc record SUBCOMMAND [flags] [arguments]

Work with records: values kept under a key on a chain, with every version
kept, and locks that every node enforces (docs/records.md).

Subcommands:
  put      write a new version of a key, optionally locking it
  get      print a key's latest version, its transaction and proof
  history  print a key's versions, oldest first
  list     print the keys on a chain, by prefix
  verify   check a saved record (get --proof) offline, against a trusted hash

Every subcommand takes --chain ID (or QBC_CHAIN); without it, the node's
default chain.
`

const recordExample = `qbc record put orders/42 '{"total":42}'
qbc record get orders/42
qbc record put --key alice.key --owners alice.key,bob.key --threshold 1 orders/43 '{"total":7}'
qbc record history orders/42
qbc record list --prefix orders/`

func runRecord(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, args, "record", recordHelp, recordExample, recordCommands())
}

func recordCommands() []command {
	return []command{
		{"put", "write a new version of a key", runRecordPut},
		{"get", "print a key's latest version", runRecordGet},
		{"history", "print a key's versions", runRecordHistory},
		{"list", "print the keys on a chain", runRecordList},
		{"verify", "check a saved record offline", runRecordVerify},
	}
}

// chainOf returns the id of the chain c addresses, asking the node for its
// default chain's when c names none.
func chainOf(ctx context.Context, c *client.Client) (quant.Hash, error) {
	if id := c.ChainID(); !id.IsZero() {
		return id, nil
	}
	ch, err := c.Chain(ctx)
	if err != nil {
		return quant.Hash{}, fmt.Errorf("reading the chain id: %w", err)
	}
	return ch.ID, nil
}

// publicKeys reads a comma-separated list of public keys: each a 64-digit
// hex key (as 'qbc keys public' prints it) or a key file (its public key).
func publicKeys(flag, spec string) ([][]byte, error) {
	var out [][]byte
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if b, err := hex.DecodeString(item); err == nil && len(b) == ed25519.PublicKeySize {
			out = append(out, b)
			continue
		}
		if _, err := os.Stat(item); err != nil {
			return nil, usagef("%s: %q is neither a 64-digit hex public key nor a key file", flag, item)
		}
		if b, err := os.ReadFile(item); err == nil {
			if k, err := hex.DecodeString(strings.TrimSpace(string(b))); err == nil && len(k) == ed25519.PublicKeySize {
				out = append(out, k)
				continue
			}
		}
		key, err := loadKey(item)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, key.Public().(ed25519.PublicKey))
	}
	return out, nil
}
