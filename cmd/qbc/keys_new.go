package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

const keysNewHelp = `Usage: qbc keys new --out FILE
       qbc keys new --stdout

Make an Ed25519 key. With --out, write the key file (mode 0600, never over
an existing file) and print the public key in hex. A private key is not
printed to the terminal by accident: --stdout prints the key file itself,
private part included, to standard output, for a pipe or a secret store.
`

const keysNewExample = `qbc keys new --out writer.key
qbc keys new --stdout > "$SECRETS/writer.key"`

func runKeysNew(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys new", keysNewHelp, keysNewExample)
	out := fs.String("out", "", "write the key to `file`")
	toStdout := fs.Bool("stdout", false, "print the key file, private key included, to standard output")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("keys new", pos, 0, 0); err != nil {
		return err
	}
	switch {
	case *out == "" && !*toStdout:
		return usagef("keys new: give --out FILE (or --stdout to print the private key)\nRun 'qbc keys new --help' for usage.")
	case *out != "" && *toStdout:
		return usagef("keys new: give --out or --stdout, not both")
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
