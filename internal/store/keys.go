package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Key namespaces and per-chain key kinds; doc.go describes the layout.
const (
	nsVersion = 0x00 // store format version
	nsChains  = 0x01 // C: chains with a stored bang
	nsChain   = 0x02 // C kind ...: one chain's keys

	kindQuant   = 'q' // H: quant record
	kindTxPage  = 'p' // u64 H u32: a page of a quant's transactions (height first; pages.go)
	kindTx      = 't' // u64 H u32: a quant's transaction, one per key (format versions 1 to 3; upgrade.go)
	kindHeight  = 'n' // u64: main-chain hash at height
	kindTxIndex = 'x' // u32 T: main-chain location of a transaction (epoch first)
	kindTip     = 'z' // main-chain tip
	kindCommits = 'c' // u64: Connects and Reorgs so far (committed.go)

	recordVersion = 1
)

// prefixLen is the length of a chain's key prefix (nsChain, chain id).
const prefixLen = 1 + quant.HashSize

// Key lengths, for decoders and buffers.
const (
	quantKeyLen   = prefixLen + 1 + quant.HashSize
	txKeyLen      = quantKeyLen + 8 + 4
	pageKeyLen    = txKeyLen
	heightKeyLen  = prefixLen + 1 + 8
	txIndexKeyLen = prefixLen + 1 + 4 + quant.HashSize
)

// epochShift sets the size of an index epoch: the transaction index keys
// of the quants whose first transaction is the chain's n-th (from 0) carry
// the epoch n >> epochShift, so an epoch holds the entries of about 2^20
// (1,048,576) transactions (a quant's all go in the epoch it starts in).
const epochShift = 20

// maxTxs bounds a meta's transaction count (checkEntry), so that every
// epoch fits in 32 bits.
const maxTxs = 1 << (32 + epochShift)

// txEpoch is the index epoch of a quant of count transactions that ends
// its branch's first txs (its meta's Txs). The store does not check txs
// against the parent's (the chain does): a txs below count counts as
// count.
func txEpoch(txs, count uint64) uint32 { return uint32((max(txs, count) - count) >> epochShift) }

// Each appendXxxKey appends one key of a chain to dst.

func (c *Chain) appendQuantKey(dst []byte, h quant.Hash) []byte {
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, kindQuant)
	return append(dst, h[:]...)
}

// appendTxKey appends the key of transaction i of quant h at height in
// format versions 2 and 3 (one transaction per key), which only the
// upgrades read and write.
func (c *Chain) appendTxKey(dst []byte, height uint64, h quant.Hash, i uint32) []byte {
	return binary.BigEndian.AppendUint32(c.appendQuantPrefix(dst, kindTx, height, h), i)
}

// appendPageKey appends the key of the page of quant h at height whose
// last transaction is the quant's last-th (from 0).
func (c *Chain) appendPageKey(dst []byte, height uint64, h quant.Hash, last uint32) []byte {
	return binary.BigEndian.AppendUint32(c.appendQuantPrefix(dst, kindTxPage, height, h), last)
}

// appendQuantPrefix appends the prefix shared by the keys of kind
// (kindTxPage, or kindTx before format version 4) of quant h at height.
// The height comes first so that each new quant's transactions sort after
// those of the quants below it: a store that grows at its tip writes them
// at the end of the key space, where Pebble moves flushed tables down the
// levels without rewriting them, instead of among all earlier quants'
// (their hashes are random).
func (c *Chain) appendQuantPrefix(dst []byte, kind byte, height uint64, h quant.Hash) []byte {
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, kind)
	dst = binary.BigEndian.AppendUint64(dst, height)
	return append(dst, h[:]...)
}

func (c *Chain) appendHeightKey(dst []byte, height uint64) []byte {
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, kindHeight)
	return binary.BigEndian.AppendUint64(dst, height)
}

// appendTxIndexKey appends the index key of transaction id in epoch. The
// epoch comes first so that the entries of new quants sort together, after
// those of all but the newest epoch: Pebble then rewrites, level after
// level, only the newest epoch's share of the index (about 2^20 entries),
// instead of the whole index, whose ids are random (docs/performance.md
// has the figures). A lookup by id alone tries each epoch, newest first.
func (c *Chain) appendTxIndexKey(dst []byte, epoch uint32, id quant.Hash) []byte {
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, kindTxIndex)
	dst = binary.BigEndian.AppendUint32(dst, epoch)
	return append(dst, id[:]...)
}

// kindBounds are the bounds of the chain's keys of kind.
func (c *Chain) kindBounds(kind byte) (lower, upper []byte) {
	return append(c.prefix[:len(c.prefix):len(c.prefix)], kind), append(c.prefix[:len(c.prefix):len(c.prefix)], kind+1)
}

// txIndexBounds are the bounds of an iterator over the chain's whole
// transaction index.
func (c *Chain) txIndexBounds() *pebble.IterOptions {
	lower, upper := c.kindBounds(kindTxIndex)
	return &pebble.IterOptions{LowerBound: lower, UpperBound: upper}
}

// txIndexEpochBounds are the bounds of an iterator over one epoch of the
// chain's transaction index.
func (c *Chain) txIndexEpochBounds(epoch uint32) *pebble.IterOptions {
	index, upper := c.kindBounds(kindTxIndex)
	if epoch < math.MaxUint32 { // else the index's end
		upper = binary.BigEndian.AppendUint32(index[:len(index):len(index)], epoch+1)
	}
	return &pebble.IterOptions{LowerBound: binary.BigEndian.AppendUint32(index, epoch), UpperBound: upper}
}

func (c *Chain) tipKey() []byte {
	return append(c.prefix[:len(c.prefix):len(c.prefix)], kindTip)
}

func chainsKey(id quant.Hash) []byte {
	return append([]byte{nsChains}, id[:]...)
}

// pageBounds returns the key range holding the transaction pages of quant
// h at height.
func (c *Chain) pageBounds(height uint64, h quant.Hash) *pebble.IterOptions {
	lower := c.appendPageKey(make([]byte, 0, pageKeyLen), height, h, 0)
	// One byte longer than the largest page key of h.
	upper := append(c.appendQuantPrefix(make([]byte, 0, pageKeyLen+1), kindTxPage, height, h), 0xff, 0xff, 0xff, 0xff, 0x00)
	return &pebble.IterOptions{LowerBound: lower, UpperBound: upper}
}

// encodeRecord encodes a quant record: what the store keeps of a quant
// beside its transactions.
func encodeRecord(q *quant.Quant, m chain.Meta) []byte {
	work := m.Work.Bytes()
	hdr := q.Header.Encode()
	b := make([]byte, 0, 1+binary.MaxVarintLen64*2+len(work)+len(hdr)+len(q.Rules))
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, m.Txs)
	b = binary.AppendUvarint(b, uint64(len(work)))
	b = append(b, work...)
	b = binary.AppendUvarint(b, uint64(len(hdr)))
	b = append(b, hdr...)
	if q.IsBang() {
		b = append(b, q.Rules...)
	}
	return b
}

// record is a decoded quant record. Its slices alias the buffer it was
// decoded from, which must be the caller's (a copy of Pebble's).
type record struct {
	header *quant.Header
	work   *big.Int
	txs    uint64
	rules  []byte
}

func (r *record) meta() chain.Meta {
	return chain.Meta{Height: r.header.Height, Work: r.work, Txs: r.txs}
}

// decodeRecord decodes what encodeRecord wrote. b must not be Pebble's
// buffer: the result aliases it.
func decodeRecord(b []byte) (*record, error) {
	if len(b) == 0 || b[0] != recordVersion {
		return nil, fmt.Errorf("quant record: unknown version: %w", ErrCorrupt)
	}
	b = b[1:]
	txs, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("quant record: txs: bad count: %w", ErrCorrupt)
	}
	b = b[k:]
	work, b, err := lengthPrefixed(b, "work")
	if err != nil {
		return nil, err
	}
	hdr, b, err := lengthPrefixed(b, "header")
	if err != nil {
		return nil, err
	}
	h, err := quant.DecodeHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("quant record: %v: %w", err, ErrCorrupt)
	}
	r := &record{header: h, work: new(big.Int).SetBytes(work), txs: txs}
	if h.IsBang() {
		r.rules = b
	} else if len(b) != 0 {
		return nil, fmt.Errorf("quant record: %d trailing bytes: %w", len(b), ErrCorrupt)
	}
	return r, nil
}

// lengthPrefixed splits a uvarint-length-prefixed field off b.
func lengthPrefixed(b []byte, field string) (v, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("quant record: %s: bad length: %w", field, ErrCorrupt)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

func encodeLocation(l chain.Location) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+binary.MaxVarintLen32)
	b = binary.AppendUvarint(b, l.Height)
	return binary.AppendUvarint(b, uint64(l.Index))
}

func decodeLocation(b []byte) (chain.Location, error) {
	h, k := binary.Uvarint(b)
	if k <= 0 {
		return chain.Location{}, fmt.Errorf("transaction index: %w", ErrCorrupt)
	}
	i, j := binary.Uvarint(b[k:])
	if j <= 0 || k+j != len(b) || i > 1<<32-1 {
		return chain.Location{}, fmt.Errorf("transaction index: %w", ErrCorrupt)
	}
	return chain.Location{Height: h, Index: uint32(i)}, nil
}

func decodeHash(b []byte, what string) (quant.Hash, error) {
	if len(b) != quant.HashSize {
		return quant.Hash{}, fmt.Errorf("%s: %d bytes, want %d: %w", what, len(b), quant.HashSize, ErrCorrupt)
	}
	return quant.Hash(b), nil
}

// get returns a copy of the value at key, or ErrNotFound.
func get(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	b := append([]byte(nil), v...)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return b, nil
}

// has reports whether key is stored.
func has(r pebble.Reader, key []byte) (bool, error) {
	_, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if err := closer.Close(); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return true, nil
}
