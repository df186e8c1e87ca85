package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// export serves GET /v1/export and /v1/chains/{chain}/export: the main
// chain's transactions from height ?from= (default the start), in order,
// streamed as NDJSON (?format=ndjson, the default: one api.ExportTx a
// line) or as one JSON array (?format=json). The chain is read as it is
// while the stream runs; a reorganisation under a long export shows in
// the quant hashes of its lines.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	from, limit, err := pageParams(r, 0, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "ndjson":
		format = "ndjson"
		w.Header().Set("Content-Type", "application/x-ndjson")
	case "json":
		w.Header().Set("Content-Type", "application/json")
	default:
		s.writeError(w, r, fmt.Errorf("%w: format: %q is not ndjson or json", ErrBadRequest, format))
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	first := true
	if format == "json" {
		bw.WriteString("[")
	}
	err = s.iterate(r, from, limit, func(q *quant.Quant) error {
		qh := q.Hash()
		for i, tx := range q.Txs {
			if format == "json" && !first {
				bw.WriteString(",")
			}
			first = false
			if err := enc.Encode(api.ExportTx{Height: q.Header.Height, Index: i, Quant: qh, Tx: api.FromTx(tx)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The status is sent; cutting the stream short tells the client.
		s.log.Warn("export stream cut", "err", err)
		panic(http.ErrAbortHandler)
	}
	if format == "json" {
		bw.WriteString("]\n")
	}
	bw.Flush()
}
