package main

import (
	"context"
	"fmt"
	"os"

	"github.com/qbc-chain/qbc/internal/atomicfile"
	"github.com/qbc-chain/qbc/internal/zk"
)

const zkMPCHelp = `Usage: qbc zk mpc init --circuit C [--depth N] --out P1.0
       qbc zk mpc contribute --in STATE --out NEXT
       qbc zk mpc phase2 --beacon TEXT --commons COMMONS --out P2.0 P1.1 P1.2 ...
       qbc zk mpc finish --commons COMMONS --beacon TEXT --out DIR P2.1 P2.2 ...

A multi-party Groth16 setup (gnark's mpcsetup for BN254): the keys are
sound if any one participant was honest, that is drew its randomness
well and forgot it. A coordinator runs init; each participant in turn
runs contribute on the last state and hands the next one on; the
coordinator verifies the whole chain of phase 1 and seals it with a public
random beacon chosen after the last contribution (phase2), the participants
contribute to phase 2 the same way, and the coordinator verifies and seals
again (finish), writing DIR/CIRCUIT.pk, .vk and .json as 'qbc zk setup'
does. Anyone can re-run phase2 and finish on the published states and
beacons and get the same keys. Take states only from the ceremony's
participants: they are large, and checked only as far as gnark checks them.
`

const zkMPCExample = `qbc zk mpc init --circuit membership --depth 20 --out p1.0
qbc zk mpc contribute --in p1.0 --out p1.1        # participant 1, then 2, ...
qbc zk mpc phase2 --beacon "$BEACON1" --commons commons --out p2.0 p1.1 p1.2
qbc zk mpc contribute --in p2.0 --out p2.1        # participant 1, then 2, ...
qbc zk mpc finish --commons commons --beacon "$BEACON2" --out keys p2.1 p2.2`

func runZKMPC(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("zk mpc: missing step (init, contribute, phase2, finish)\nRun 'qbc zk mpc --help' for usage.")
	}
	step := args[0]
	fs := newFlags(e, "zk mpc", zkMPCHelp, zkMPCExample)
	circuit := fs.String("circuit", "", "init: the `circuit`")
	depth := fs.Int("depth", 20, "init: the membership `depth`")
	in := fs.String("in", "", "contribute: the last `state`")
	out := fs.String("out", "", "the `file` (or, for finish, directory) to write")
	beacon := fs.String("beacon", "", "phase2, finish: the public random `beacon`")
	commons := fs.String("commons", "", "phase2: write, finish: read the commons `file`")
	if step == "-h" || step == "--help" || step == "-help" {
		_, err := fs.parse(args)
		return err
	}
	pos, err := fs.parse(args[1:])
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("zk mpc %s: give --out", step)
	}
	write := func(b []byte) error { return atomicfile.Write(*out, b, 0o644) }
	readAll := func(paths []string) ([][]byte, error) {
		var bs [][]byte
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			bs = append(bs, b)
		}
		return bs, nil
	}
	switch step {
	case "init":
		c, err := zk.ParseCircuit(*circuit)
		if err != nil {
			return usagef("zk mpc init: --circuit: %v", err)
		}
		b, err := zk.MPCInit(c, *depth)
		if err != nil {
			return err
		}
		return write(b)
	case "contribute":
		b, err := os.ReadFile(*in)
		if err != nil {
			return err
		}
		next, err := zk.MPCContribute(b)
		if err != nil {
			return fmt.Errorf("zk mpc contribute: %w", err)
		}
		return write(next)
	case "phase2":
		if *beacon == "" || *commons == "" || len(pos) == 0 {
			return usagef("zk mpc phase2: give --beacon, --commons and the phase 1 contributions in order")
		}
		bs, err := readAll(pos)
		if err != nil {
			return err
		}
		cm, start, err := zk.MPCPhase2([]byte(*beacon), bs...)
		if err != nil {
			return fmt.Errorf("zk mpc phase2: %w", err)
		}
		if err := atomicfile.Write(*commons, cm, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "phase 1: %d contributions verified\n", len(bs))
		return write(start)
	case "finish":
		if *beacon == "" || *commons == "" || len(pos) == 0 {
			return usagef("zk mpc finish: give --beacon, --commons and the phase 2 contributions in order")
		}
		cm, err := os.ReadFile(*commons)
		if err != nil {
			return err
		}
		bs, err := readAll(pos)
		if err != nil {
			return err
		}
		k, err := zk.MPCFinish(cm, []byte(*beacon), bs...)
		if err != nil {
			return fmt.Errorf("zk mpc finish: %w", err)
		}
		if err := writeKeys(*out, k); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "phase 2: %d contributions verified\n", len(bs))
		return writeJSON(e.stdout, zk.RuleOf(k))
	}
	return usagef("zk mpc: unknown step %q (init, contribute, phase2, finish)", step)
}
