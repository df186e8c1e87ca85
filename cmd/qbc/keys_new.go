package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

const keysNewHelp = `Usage: qbc keys new [--out FILE]

Make an Ed25519 key. With --out, write the key file (mode 0600, never over
an existing file) and print the public key in hex. Without it, print the
key file itself, private part included, to standard output.
`

const keysNewExample = `qbc keys new --out writer.key`

func runKeysNew(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys new", keysNewHelp, keysNewExample)
	out := fs.String("out", "", "write the key to `file`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("keys new", pos, 0, 0); err != nil {
		return err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("keys new: %w", err)
	}
	if *out == "" {
		_, err := e.stdout.Write(marshalKey(key))
		return err
	}
	if err := saveKey(*out, key); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, hex.EncodeToString(key.Public().(ed25519.PublicKey)))
	return nil
}
