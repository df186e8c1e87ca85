package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
)

const exportHelp = `Usage: qbc export [flags]

Write a chain's committed transactions, in order, as NDJSON (one JSON object
a line: height, index, quant, and the transaction as 'qbc tx get' shows it)
or, with --format json, as one JSON array (GET /v1/chains/{id}/export).
--chain (or QBC_CHAIN) picks the chain, --from the first height; --out
writes to a file instead of standard output. Progress goes to standard
error every second.
`

const exportExample = `qbc export --chain "$CHAIN" --out txs.ndjson
qbc export --from 1000 --format json | jq length`

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", exportHelp, exportExample)
	nf := fs.addChainFlags(0)
	from := fs.Uint64("from", 0, "first `height` (default the chain's start)")
	format := fs.String("format", "ndjson", "`format`: ndjson or json")
	outPath := fs.String("out", "", "write to `file` (default standard output)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("export", pos, 0, 0); err != nil {
		return err
	}
	if *format != "ndjson" && *format != "json" {
		return usagef("export: --format %q is not ndjson or json", *format)
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	var out io.Writer = e.stdout
	if *outPath != "" {
		f, err := os.Create(*outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	var (
		n      uint64
		height uint64
		last   = time.Now()
		start  = last
	)
	if *format == "json" {
		bw.WriteString("[")
	}
	err = c.Export(ctx, *from, func(line []byte, tx api.ExportTx) error {
		if *format == "json" && n > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(line)
		if *format == "ndjson" {
			bw.WriteByte('\n')
		}
		n++
		height = tx.Height
		if time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(e.stderr, "exported %d transactions, at height %d\n", n, height)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *format == "json" {
		bw.WriteString("]\n")
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if *outPath != "" {
		if err := out.(*os.File).Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "exported %d transactions up to height %d in %v\n", n, height, time.Since(start).Round(time.Millisecond))
	return nil
}
