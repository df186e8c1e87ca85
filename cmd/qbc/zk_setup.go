package main

import (
	"context"
	"fmt"

	"github.com/qbc-chain/qbc/internal/zk"
)

const zkSetupHelp = `Usage: qbc zk setup --circuit membership|preimage|range [--depth N] --out DIR

Run a single-party Groth16 setup for a circuit and write its proving key
(DIR/CIRCUIT.pk), verifying key (DIR/CIRCUIT.vk) and depth (DIR/CIRCUIT.json).
Prints the rules entry naming them ('qbc zk rules' prints the whole zk
section). Membership takes --depth: groups of up to 2^depth members
(default 20).

Whoever runs a single-party setup knows its toxic waste and can forge
proofs for these keys (never learn anyone's secret): use it for
development. A production chain's keys come from 'qbc zk mpc', sound if
any one participant was honest (docs/zk.md).
`

const zkSetupExample = `qbc zk setup --circuit membership --depth 20 --out keys
qbc zk setup --circuit preimage --out keys`

func runZKSetup(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "zk setup", zkSetupHelp, zkSetupExample)
	circuit := fs.String("circuit", "", "`circuit`: membership, preimage or range")
	depth := fs.Int("depth", 20, "membership tree `depth`")
	out := fs.String("out", "", "write the keys into `directory`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("zk setup", pos, 0, 0); err != nil {
		return err
	}
	c, err := zk.ParseCircuit(*circuit)
	if err != nil {
		return usagef("zk setup: --circuit: %v", err)
	}
	if *out == "" {
		return usagef("zk setup: give --out DIR")
	}
	k, err := zk.Setup(c, *depth)
	if err != nil {
		return fmt.Errorf("zk setup: %w", err)
	}
	if err := writeKeys(*out, k); err != nil {
		return fmt.Errorf("zk setup: %w", err)
	}
	return writeJSON(e.stdout, zk.RuleOf(k))
}
