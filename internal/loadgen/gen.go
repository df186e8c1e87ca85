package loadgen

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

// BatchMediaType is the node's binary batch encoding for POST /v1/txs
// (httpapi.BatchMediaType): each transaction's canonical encoding preceded
// by its u32 big-endian length.
const BatchMediaType = "application/x-qbc-txs"

// Request encodings.
const (
	encJSON   = iota // a JSON array of api.Tx with only raw set
	encSingle        // one api.Tx with only raw set
	encBinary        // BatchMediaType
)

// request is one prepared submission: its body and, for each of its
// transactions, the transaction's id and its item inside body (to resend a
// subset).
type request struct {
	enc   int
	body  []byte
	items [][]byte // each aliases body
	ids   []quant.Hash
}

// contentType is the request's media type.
func (r *request) contentType() string {
	if r.enc == encBinary {
		return BatchMediaType
	}
	return "application/json"
}

// subset returns a request for the items at idx of r (for a resend). The
// new body is a fresh buffer; items alias it.
func (r *request) subset(idx []int) *request {
	if r.enc == encSingle {
		return r // a single request is resent whole
	}
	out := &request{enc: r.enc, items: make([][]byte, len(idx)), ids: make([]quant.Hash, len(idx))}
	its := make([][]byte, len(idx))
	for j, i := range idx {
		its[j] = r.items[i]
		out.ids[j] = r.ids[i]
	}
	out.body, out.items = frame(r.enc, its)
	return out
}

// frame joins items into a body of encoding enc and returns it with each
// item's place in it.
func frame(enc int, items [][]byte) (body []byte, at [][]byte) {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	body = make([]byte, 0, n)
	if enc == encJSON {
		body = append(body, '[')
	}
	offs := make([]int, len(items))
	for i, it := range items {
		if i > 0 && enc == encJSON {
			body = append(body, ',')
		}
		offs[i] = len(body)
		body = append(body, it...)
	}
	if enc == encJSON {
		body = append(body, ']')
	}
	at = make([][]byte, len(items))
	for i, it := range items {
		at[i] = body[offs[i] : offs[i]+len(it) : offs[i]+len(it)]
	}
	return body, at
}

// generator makes transactions and request bodies on a pool of producer
// goroutines, ahead of the senders. Transaction i of a run has nonce
// base+i, a payload that numbers it, and (signed) the key i mod len(keys).
type generator struct {
	chain quant.Hash
	keys  []ed25519.PrivateKey // nil: unsigned
	size  int
	// recordKeys, if set, is how many record keys the writes go to.
	recordKeys uint64
	batch      int
	enc        int   // encJSON, encSingle or encBinary
	total      int64 // transactions to make; -1: until stopped
	prefill    int64 // made before the clock starts
	base       uint64

	out chan *request

	next atomic.Int64 // transactions handed to producers
	made atomic.Int64 // transactions made
	busy atomic.Int64 // nanoseconds producers spent making them
	// txSize is the encoded size of every transaction of the run (they
	// differ only in fixed-width fields and same-size payloads).
	txSize atomic.Int64

	prefillOnce sync.Once
	prefilled   chan struct{} // closed once prefill transactions are made (or all)
}

func newGenerator(cfg *Config, chain quant.Hash) *generator {
	g := &generator{
		chain:      chain,
		size:       cfg.Size,
		recordKeys: uint64(max(cfg.RecordKeys, 0)),
		batch:      cfg.Batch,
		total:      -1,
		prefilled:  make(chan struct{}),
	}
	switch {
	case cfg.Binary:
		g.enc = encBinary
	case cfg.Batch == 1:
		g.enc = encSingle
	}
	if cfg.Count > 0 {
		g.total = int64(cfg.Count)
	}
	if cfg.Prefill > 0 {
		g.prefill = int64(cfg.Prefill)
		if g.total >= 0 {
			g.prefill = min(g.prefill, g.total)
		}
		if cfg.Rate > 0 { // no more than the run can send
			g.prefill = min(g.prefill, int64(cfg.Rate*cfg.Duration.Seconds())+int64(cfg.Batch))
		}
	}
	if !cfg.Unsigned {
		g.keys = make([]ed25519.PrivateKey, cfg.Keys)
		for i := range g.keys {
			_, g.keys[i], _ = ed25519.GenerateKey(rand.Reader)
		}
	}
	var b [8]byte
	rand.Read(b[:])
	g.base = binary.BigEndian.Uint64(b[:]) >> 1 // room to count up
	// The channel holds the prefill and a request per worker beyond it.
	g.out = make(chan *request, int(g.prefill)/g.batch+cfg.Workers+1)
	if g.prefill == 0 {
		g.markPrefilled()
	}
	return g
}

func (g *generator) markPrefilled() { g.prefillOnce.Do(func() { close(g.prefilled) }) }

func (g *generator) isPrefilled() bool {
	select {
	case <-g.prefilled:
		return true
	default:
		return false
	}
}

// refillPoll is how often an idle producer looks at the senders' supply.
const refillPoll = 2 * time.Millisecond

// produce makes requests until the total is made or ctx ends. Several
// run at once; out is closed by the caller once all have returned. After
// the prefill it makes more only once the supply is down to a quarter, so
// that the generator's signing competes with the nodes as little and as
// late as possible.
func (g *generator) produce(ctx context.Context) error {
	lowWater := cap(g.out) / 4
	for ctx.Err() == nil {
		if g.isPrefilled() && len(g.out) > lowWater {
			t := time.NewTimer(refillPoll)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			continue
		}
		n := int64(g.batch)
		start := g.next.Add(n) - n
		if g.total >= 0 {
			if start >= g.total {
				return nil
			}
			n = min(n, g.total-start)
		}
		t0 := time.Now()
		r := g.make(start, int(n))
		g.busy.Add(int64(time.Since(t0)))
		made := g.made.Add(n)
		if made >= g.prefill || (g.total >= 0 && made >= g.total) {
			g.markPrefilled()
		}
		select {
		case g.out <- r:
		case <-ctx.Done():
		}
	}
	return nil
}

// make builds the request holding transactions first..first+n-1.
func (g *generator) make(first int64, n int) *request {
	r := &request{enc: g.enc, ids: make([]quant.Hash, n)}
	now := time.Now().UnixMilli()
	items := make([][]byte, n)
	for i := range n {
		seq := uint64(first) + uint64(i)
		tx := &quant.Tx{
			ChainID: g.chain,
			Time:    now,
			Nonce:   g.base + seq,
			Kind:    quant.DataJSON,
			Data:    payload(seq, g.size),
		}
		if g.recordKeys > 0 {
			tx.Key = "bench/" + strconv.FormatUint(seq%g.recordKeys, 10)
		}
		if g.keys != nil {
			tx.Sign(g.keys[seq%uint64(len(g.keys))])
		}
		enc := tx.Encode()
		r.ids[i] = quant.Sum(quant.DomainTx, enc) // tx.ID(), without encoding twice
		if i == 0 {
			g.txSize.Store(int64(len(enc)))
		}
		if g.enc == encBinary {
			items[i] = binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(enc)), uint32(len(enc)))
			items[i] = append(items[i], enc...)
			continue
		}
		it := make([]byte, 0, len(`{"raw":""}`)+2*len(enc))
		it = append(it, `{"raw":"`...)
		it = hex.AppendEncode(it, enc)
		items[i] = append(it, `"}`...)
	}
	r.body, r.items = frame(g.enc, items)
	return r
}

// payloadAlphabet makes padding that does not compress to nothing (a
// store's compression should see realistic data).
const payloadAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// payload returns a compact JSON object of exactly size bytes (size is at
// least minSize) that numbers the transaction: {"n":seq,"p":"<padding>"}.
func payload(seq uint64, size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, `{"n":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"p":"`...)
	pad := size - len(b) - 2
	rng := mrand.NewPCG(seq, 0x9e3779b97f4a7c15)
	for pad > 0 {
		v := rng.Uint64()
		for k := 0; k < 10 && pad > 0; k++ {
			b = append(b, payloadAlphabet[v&63])
			v >>= 6
			pad--
		}
	}
	return append(b, `"}`...)
}
