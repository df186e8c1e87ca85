package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/qbc-chain/qbc/internal/api"
)

// Export streams the chain's committed transactions from height from, in
// order (GET /v1/chains/{id}/export?format=ndjson), and calls fn with
// each line, as received (a line of NDJSON) and decoded. An error from fn
// stops the stream and is returned as is.
func (c *Client) Export(ctx context.Context, from uint64, fn func(line []byte, tx api.ExportTx) error) error {
	path := c.v1("/export") + "?format=ndjson&from=" + strconv.FormatUint(from, 10)
	resp, err := c.send(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := readLine(br, MaxLargeResponse)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("client: GET %s: %w", path, err)
		}
		var tx api.ExportTx
		if err := json.Unmarshal(line, &tx); err != nil {
			return fmt.Errorf("client: GET %s: %w", path, err)
		}
		if err := fn(line, tx); err != nil {
			return err
		}
	}
}

// readLine reads one line of at most limit bytes, without its newline.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > limit {
			return nil, fmt.Errorf("a line exceeds %d bytes", limit)
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
