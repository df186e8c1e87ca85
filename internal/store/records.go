package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Record keys (doc.go): per chain,
//
//	'k' key                       -> the key's latest version
//	'h' key 0x00 height index     -> each version on the main chain
//
// A key never holds a NUL (quant.CheckKey), so 0x00 ends it and one key's
// versions sort together, by height and index; keys are UTF-8 and never
// hold 0xff, which bounds a prefix's range.
const (
	kindLatest  = 'k'
	kindHistory = 'h'

	versionVersion = 1
)

func (c *Chain) appendLatestKey(dst []byte, key string) []byte {
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, kindLatest)
	return append(dst, key...)
}

// appendHistoryPrefix appends the prefix shared by key's versions.
func (c *Chain) appendHistoryPrefix(dst []byte, key string) []byte {
	dst = append(dst, c.prefix[:]...)
	dst = append(dst, kindHistory)
	dst = append(dst, key...)
	return append(dst, 0)
}

func (c *Chain) appendHistoryKey(dst []byte, key string, at chain.Location) []byte {
	dst = c.appendHistoryPrefix(dst, key)
	dst = binary.BigEndian.AppendUint64(dst, at.Height)
	return binary.BigEndian.AppendUint32(dst, at.Index)
}

// encodeVersion encodes what the store keeps of a version (its key is in
// the store key).
func encodeVersion(v *chain.Version) []byte {
	var lock []byte
	if v.Lock != nil {
		lock = v.Lock.Encode()
	}
	b := make([]byte, 0, 1+8+4+quant.HashSize+8+1+len(v.Signer)+2+len(lock))
	b = append(b, versionVersion)
	b = binary.BigEndian.AppendUint64(b, v.Height)
	b = binary.BigEndian.AppendUint32(b, v.Index)
	b = append(b, v.TxID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(v.Time))
	b = append(b, byte(len(v.Signer)))
	b = append(b, v.Signer...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(lock)))
	return append(b, lock...)
}

// decodeVersion decodes what encodeVersion wrote, for key. The result
// does not alias b.
func decodeVersion(key string, b []byte) (chain.Version, error) {
	bad := func(what string) (chain.Version, error) {
		return chain.Version{}, fmt.Errorf("record %q: %s: %w", key, what, ErrCorrupt)
	}
	const fixed = 1 + 8 + 4 + quant.HashSize + 8 + 1
	if len(b) < fixed || b[0] != versionVersion {
		return bad("unknown version or short")
	}
	v := chain.Version{Key: key}
	v.Height = binary.BigEndian.Uint64(b[1:])
	v.Index = binary.BigEndian.Uint32(b[9:])
	v.TxID = quant.Hash(b[13 : 13+quant.HashSize])
	v.Time = int64(binary.BigEndian.Uint64(b[45:]))
	n := int(b[53])
	b = b[fixed:]
	if n != 0 && n != 32 || len(b) < n+2 {
		return bad("signer")
	}
	if n > 0 {
		v.Signer = append([]byte(nil), b[:n]...)
	}
	b = b[n:]
	m := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) != m {
		return bad("lock length")
	}
	if m > 0 {
		l, err := quant.DecodeLock(b)
		if err != nil {
			return bad("lock: " + err.Error())
		}
		v.Lock = l
	}
	return v, nil
}

// RecordAt returns key's latest version on the main chain at or before at
// (chain.LastLocation: the newest, read from its latest entry).
func (c *Chain) RecordAt(key string, at chain.Location) (chain.Version, error) {
	if err := c.db.enter(); err != nil {
		return chain.Version{}, err
	}
	defer c.db.leave()
	return c.recordAt(c.db.pdb, key, at)
}

func (c *Chain) recordAt(r pebble.Reader, key string, at chain.Location) (chain.Version, error) {
	if at == chain.LastLocation {
		b, err := get(r, c.appendLatestKey(nil, key))
		if err != nil {
			return chain.Version{}, fmt.Errorf("chain %s: record %q: %w", short(c.id), key, err)
		}
		return decodeVersion(key, b)
	}
	lower := c.appendHistoryPrefix(nil, key)
	upper := append(c.appendHistoryKey(nil, key, at), 0) // just past at
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return chain.Version{}, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	if !it.Last() {
		if err := it.Error(); err != nil {
			return chain.Version{}, fmt.Errorf("store: %w", err)
		}
		return chain.Version{}, fmt.Errorf("chain %s: record %q at %d/%d: %w", short(c.id), key, at.Height, at.Index, ErrNotFound)
	}
	return decodeVersion(key, it.Value())
}

// History returns up to limit versions of key, oldest first, after after
// (nil: from the first), from one snapshot.
func (c *Chain) History(key string, after *chain.Location, limit int) ([]chain.Version, error) {
	if err := c.db.enter(); err != nil {
		return nil, err
	}
	defer c.db.leave()
	lower := c.appendHistoryPrefix(nil, key)
	upper := append(c.appendHistoryPrefix(nil, key)[:len(lower)-1], 1)
	if after != nil {
		lower = append(c.appendHistoryKey(nil, key, *after), 0)
	}
	it, err := c.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	var out []chain.Version
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		v, err := decodeVersion(key, it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// Keys returns up to limit record keys that start with prefix, in byte
// order, after after ("": from the first).
func (c *Chain) Keys(prefix, after string, limit int) ([]string, error) {
	if err := c.db.enter(); err != nil {
		return nil, err
	}
	defer c.db.leave()
	lower := c.appendLatestKey(nil, prefix)
	upper := append(c.appendLatestKey(nil, prefix), 0xff)
	if after >= prefix {
		lower = append(c.appendLatestKey(nil, after), 0)
	}
	it, err := c.db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer it.Close()
	var out []string
	skip := prefixLen + 1
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		out = append(out, string(it.Key()[skip:]))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// checkVersions refuses an entry for the main chain whose record versions
// are not those of its keyed transactions, in order. It stops a caller
// from indexing writes the quant does not hold.
func (c *Chain) checkVersions(e chain.Entry) error {
	n := 0
	for i, tx := range e.Quant.Txs {
		for _, key := range tx.WrittenKeys() {
			if n >= len(e.Records) {
				return fmt.Errorf("chain %s: quant %d: transaction %d writes %q but has no record version: %w",
					short(c.id), e.Meta.Height, i, key, ErrInvalid)
			}
			v := &e.Records[n]
			if v.Key != key || v.Index != uint32(i) || v.Height != e.Quant.Header.Height {
				return fmt.Errorf("chain %s: quant %d: record version %d is not transaction %d's write: %w",
					short(c.id), e.Meta.Height, n, i, ErrInvalid)
			}
			n++
		}
	}
	if n != len(e.Records) {
		return fmt.Errorf("chain %s: quant %d: %d record versions for %d writes: %w", short(c.id), e.Meta.Height, len(e.Records), n, ErrInvalid)
	}
	return nil
}

// putRecords adds e's record versions to b: each to its key's history and
// as its key's latest (a later one of the same key overwrites).
func (c *Chain) putRecords(b *pebble.Batch, e chain.Entry) error {
	for i := range e.Records {
		v := &e.Records[i]
		enc := encodeVersion(v)
		if err := b.Set(c.appendHistoryKey(nil, v.Key, v.Location()), enc, nil); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if err := b.Set(c.appendLatestKey(nil, v.Key), enc, nil); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// deleteRecord adds to b the deletion of the version of key at (height,
// index), a write of a quant leaving the main chain.
func (c *Chain) deleteRecord(b *pebble.Batch, key string, at chain.Location) error {
	if err := b.Delete(c.appendHistoryKey(nil, key, at), nil); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// restoreLatest adds to b, for each key in keys, its latest entry as it
// is at or below height forkHeight (every version above it is leaving the
// main chain), or its deletion when it has none.
func (c *Chain) restoreLatest(b *pebble.Batch, keys map[string]struct{}, forkHeight uint64) error {
	for key := range keys {
		v, err := c.recordAt(c.db.pdb, key, chain.Location{Height: forkHeight, Index: ^uint32(0)})
		switch {
		case err == nil:
			if err := b.Set(c.appendLatestKey(nil, key), encodeVersion(&v), nil); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		case errors.Is(err, ErrNotFound):
			if err := b.Delete(c.appendLatestKey(nil, key), nil); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		default:
			return err
		}
	}
	return nil
}
