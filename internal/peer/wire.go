package peer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/qbc-chain/qbc/internal/quant"
)

// helloBody introduces a node: where it listens and which chain it is on.
type helloBody struct {
	Addr    string     `json:"addr"`
	Chain   quant.Hash `json:"chain"`
	Status  statusBody `json:"status"`
	Peers   []string   `json:"peers,omitempty"` // addresses it knows
	Version string     `json:"version"`
	// Chains are all the chains the node follows (at most maxChains).
	Chains []quant.Hash `json:"chains,omitempty"`
}

// statusBody is a node's tip, for fork choice and sync.
type statusBody struct {
	Height uint64     `json:"height"`
	Tip    quant.Hash `json:"tip"`
	Work   string     `json:"work"` // decimal
}

// peersBody asks the receiver to discover these addresses.
type peersBody struct {
	Addrs []string `json:"addrs"`
}

// announceBody tells of a new quant, to be fetched by who lacks it.
type announceBody struct {
	Hash   quant.Hash `json:"hash"`
	Height uint64     `json:"height"`
}

// syncBody asks for the hashes of the main-chain quants after the
// locator's fork point.
type syncBody struct {
	Locator []quant.Hash `json:"locator"`
	Limit   int          `json:"limit"`
}

// Bounds on what a peer may ask for.
const (
	maxPeersList  = 64
	maxChains     = 256 // chains one hello may list
	maxSyncBytes  = 16 << 20
	maxSyncHashes = 4096 // hashes in one KindHashes answer
	maxGetQuants  = 128  // hashes in one KindGetQuants request
	protocolName  = "qbc/1"
)

func decodeBody(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return quant.Errorf(quant.CodeMalformed, "message body: %v", err)
	}
	return nil
}

// encodeFrames frames byte strings as u32 length + bytes.
func encodeFrames(items [][]byte) []byte {
	n := 0
	for _, it := range items {
		n += 4 + len(it)
	}
	out := make([]byte, 0, n)
	for _, it := range items {
		out = binary.BigEndian.AppendUint32(out, uint32(len(it)))
		out = append(out, it...)
	}
	return out
}

// decodeFrames splits framed byte strings, each at most max bytes, at most
// count of them. The results alias b.
func decodeFrames(b []byte, max, count int) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(b); {
		if len(out) == count {
			return nil, quant.Errorf(quant.CodeTooLarge, "more than %d items", count)
		}
		if len(b)-off < 4 {
			return nil, quant.Errorf(quant.CodeMalformed, "truncated frame at %d", off)
		}
		n := int(binary.BigEndian.Uint32(b[off:]))
		off += 4
		if n > max || n > len(b)-off {
			return nil, quant.Errorf(quant.CodeMalformed, "frame of %d bytes at %d does not fit", n, off)
		}
		out = append(out, b[off:off+n])
		off += n
	}
	return out, nil
}

// replyBody prefixes an answer with the nonce of the request it answers, so
// an answer cannot be passed off as the answer to another request.
func replyBody(nonce uint64, answer []byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(answer)), nonce), answer...)
}

func splitReply(b []byte, nonce uint64) ([]byte, error) {
	if len(b) < 8 || binary.BigEndian.Uint64(b) != nonce {
		return nil, fmt.Errorf("%w: reply does not answer the request", ErrMalformed)
	}
	return b[8:], nil
}

// splitHashes splits a body of concatenated hashes, at most max of them.
func splitHashes(b []byte, max int) ([]quant.Hash, error) {
	if len(b)%quant.HashSize != 0 {
		return nil, quant.Errorf(quant.CodeMalformed, "%d bytes is not a list of hashes", len(b))
	}
	if len(b)/quant.HashSize > max {
		return nil, quant.Errorf(quant.CodeTooLarge, "%d hashes, limit %d", len(b)/quant.HashSize, max)
	}
	out := make([]quant.Hash, len(b)/quant.HashSize)
	for i := range out {
		copy(out[i][:], b[i*quant.HashSize:])
	}
	return out, nil
}
