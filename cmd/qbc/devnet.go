package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/consensus/pow"
	"github.com/qbc-chain/qbc/internal/node"
	"github.com/qbc-chain/qbc/internal/quant"
)

const devnetHelp = `Usage: qbc devnet [flags]

Start a local network of N connected nodes in this process, each on its own
loopback address and with its own data directory, all mining a devnet chain
of low difficulty, and print their API addresses. It runs until interrupted;
the data stays in --dir, so a second run resumes the same network.

Node i listens on 127.0.0.1:(base-port + i) and knows the nodes before it
as peers, so they find each other as the seed's /discover did.
`

const devnetExample = `qbc devnet --nodes 3
qbc devnet --nodes 5 --base-port 6000 --dir /tmp/qbc-devnet --target 2s`

// devnetRules are the devnet chain's rules: open writes, pow aiming at
// target between quants from a low difficulty.
func devnetRules(targetMs int64, difficulty uint64) quant.Rules {
	r := quant.DefaultRules("qbc-devnet", node.DefaultChainCreated)
	r.Engine = pow.Name
	r.EngineParams, _ = json.Marshal(pow.Params{
		TargetMs: targetMs, InitialDifficulty: difficulty, MinDifficulty: max(1, difficulty/16), Window: 16,
	})
	return r
}

func runDevnet(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "devnet", devnetHelp, devnetExample)
	nodes := f.Int("nodes", 3, "number of `N` nodes (1 to 32)")
	basePort := f.Int("base-port", 5000, "API `port` of the first node; the others follow (0: any free ports)")
	dir := f.String("dir", "", "data `directory` of the network (default $HOME/.qbc/devnet)")
	target := f.Duration("target", 0, "target time between quants (default 2s)")
	difficulty := f.Uint64("difficulty", 1<<12, "initial proof-of-work `difficulty`")
	mine := f.Bool("mine", true, "mine on every node whenever transactions wait")
	logLevel := f.String("log-level", "warn", "log `level`: debug, info, warn or error")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("devnet", pos, 0, 0); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 32 {
		return usagef("devnet: --nodes must be 1 to 32")
	}
	if *basePort < 0 || *basePort+*nodes > 65535 {
		return usagef("devnet: --base-port out of range")
	}
	targetMs := int64(2000)
	if *target != 0 {
		targetMs = target.Milliseconds()
	}
	if *dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("devnet: no home directory; give --dir: %w", err)
		}
		*dir = filepath.Join(home, ".qbc", "devnet")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	genesis := filepath.Join(*dir, "genesis.json")
	if _, err := os.Stat(genesis); os.IsNotExist(err) {
		b, err := json.MarshalIndent(devnetRules(targetMs, *difficulty), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(genesis, b, 0o600); err != nil {
			return fmt.Errorf("devnet: %w", err)
		}
	}
	logger, err := newLogger(e.stderr, *logLevel, "text")
	if err != nil {
		return usagef("devnet: %v", err)
	}

	var (
		running []*node.Node
		addrs   []string
	)
	defer func() {
		for _, n := range running {
			n.Close()
		}
	}()
	for i := 0; i < *nodes; i++ {
		cfg := node.DefaultConfig()
		port := 0
		if *basePort != 0 {
			port = *basePort + i
		}
		cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cfg.DataDir = filepath.Join(*dir, fmt.Sprintf("node%d", i+1)) // not per port: a rerun resumes
		cfg.Genesis = genesis
		cfg.Mine = *mine
		cfg.Peers = append([]string(nil), addrs...)
		cfg.Version = qbcVersion()
		n, err := node.New(cfg, logger.With("node", i+1))
		if err != nil {
			return fmt.Errorf("devnet: node %d: %w", i+1, err)
		}
		running = append(running, n)
		addrs = append(addrs, n.Addr())
	}
	fmt.Fprintf(e.stdout, "devnet of %d nodes on chain %s (data in %s)\n", len(running), running[0].Chain().ID(), *dir)
	for i, a := range addrs {
		fmt.Fprintf(e.stdout, "node%d http://%s\n", i+1, a)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, n := range running {
		g.Go(func() error { return n.Run(ctx) })
	}
	return g.Wait()
}
