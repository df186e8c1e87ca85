package chain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

// Records: a transaction that names a key is a write of a record, a new
// version of the value under that key. The chain keeps, per key, every
// version on the main chain (Reader.History) and the latest
// (Reader.RecordAt), and checks each write against the lock in force
// before it (checkWrite): at admission, against the tip; in Add, for every
// quant, made here or received, against the quant's parent; on a
// reorganisation, against the history the branch joins. docs/records.md
// has the routes, the locks and the threat model.

// checkWrite checks tx, a write of tx.Key in a quant at height and time
// (Unix ms), against the key's latest version prev (nil for a new key) and
// the chain's key rule for it (nil for none). It returns the lock in force
// after the write. Each refusal has its own code: write_once, locked_time,
// locked_owner, locked_hash, append_only. Signatures are verified before:
// here a signer counts by being listed.
func checkWrite(prev *Version, tx *quant.Tx, height uint64, at int64, rule *quant.KeyRule) (*quant.Lock, error) {
	if prev == nil {
		return tx.Lock, nil
	}
	if rule != nil && rule.WriteOnce {
		return nil, quant.Errorf(quant.CodeWriteOnce, "key %q is write-once (keys under %q), written at %d", tx.Key, rule.Prefix, prev.Height)
	}
	l := prev.Lock
	if l == nil {
		return tx.Lock, nil
	}
	if l.WriteOnce {
		return nil, quant.Errorf(quant.CodeWriteOnce, "key %q is write-once, written at %d", tx.Key, prev.Height)
	}
	if height < l.NotBeforeHeight {
		return nil, quant.Errorf(quant.CodeLockedTime, "key %q is locked until height %d (this is %d)", tx.Key, l.NotBeforeHeight, height)
	}
	if at < l.NotBeforeTime {
		return nil, quant.Errorf(quant.CodeLockedTime, "key %q is locked until time %d (this is %d)", tx.Key, l.NotBeforeTime, at)
	}
	if len(l.Owners) > 0 {
		n := 0
		for _, s := range tx.Signers() { // distinct: DecodeTx refuses a key signing twice
			if l.IsOwner(s) {
				n++
			}
		}
		if n < int(l.Threshold) {
			return nil, quant.Errorf(quant.CodeLockedOwner, "key %q needs signatures of %d of its %d owners, has %d", tx.Key, l.Threshold, len(l.Owners), n)
		}
	}
	if l.Hash != nil && (tx.Reveal == nil || quant.HashLock(tx.Reveal) != *l.Hash) {
		return nil, quant.Errorf(quant.CodeLockedHash, "key %q is hash-locked: the write must reveal a preimage of %x", tx.Key, l.Hash[:])
	}
	if err := checkSecretLock(l, prev, tx); err != nil {
		return nil, err
	}
	if tx.Lock != nil {
		if l.AppendOnly && !tx.Lock.AppendOnly && !tx.Lock.WriteOnce {
			return nil, quant.Errorf(quant.CodeAppendOnly, "key %q is append-only: a new lock must keep append_only", tx.Key)
		}
		return tx.Lock, nil
	}
	if l.Hash == nil {
		return l, nil
	}
	// The preimage is public now: the hash lock is spent.
	next := *l
	next.Hash = nil
	if len(next.Owners) == 0 && next.Commitment == nil && next.NotBeforeHeight == 0 && next.NotBeforeTime == 0 && !next.AppendOnly {
		return nil, nil
	}
	return &next, nil
}

// keyState is the record state writes are checked against: the versions
// written so far in the quants being checked, over base's.
type keyState struct {
	base    func(key string) (*Version, error)
	written map[string]*Version
	groups  map[string][]writtenGroup // group records' versions written, oldest first, with their roots
}

func (s *keyState) latest(key string) (*Version, error) {
	if v, ok := s.written[key]; ok {
		return v, nil
	}
	return s.base(key)
}

// atOrBefore is a keyState base: the stored version of key at or before
// loc, or nil.
func (c *Chain) atOrBefore(loc Location) func(string) (*Version, error) {
	return func(key string) (*Version, error) {
		v, err := c.st.RecordAt(key, loc)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("chain: record %q: %w", key, err)
		}
		return &v, nil
	}
}

// write checks tx, a write of tx.Key at index i of a quant at height and
// time at, against the key's latest version in s and the chain's key rule,
// and on success adds the versions it makes to s and returns them: its
// key's, and for a membership proof its nullifier's (docs/zk.md).
func (s *keyState) write(c *Chain, tx *quant.Tx, id quant.Hash, height uint64, i int, at int64) ([]Version, error) {
	prev, err := s.latest(tx.Key)
	if err != nil {
		return nil, err
	}
	lock, err := checkWrite(prev, tx, height, at, c.rules.KeyRule(tx.Key))
	if err != nil {
		return nil, err
	}
	var root *zk.Field
	if c.zk != nil && strings.HasPrefix(tx.Key, quant.GroupPrefix) {
		r, err := c.groupRoot(tx.Data)
		if err != nil {
			return nil, err
		}
		root = &r
	}
	var nullifier *Version
	if tx.ZK != nil && tx.ZK.Circuit == quant.ZKMembership {
		nk := quant.NullifierKey(tx.ZK.Nullifier)
		spent, err := s.latest(nk)
		if err != nil {
			return nil, err
		}
		if spent != nil {
			return nil, quant.Errorf(quant.CodeNullifierUsed, "nullifier %s is spent already (at height %d)", tx.ZK.Nullifier, spent.Height)
		}
		if err := s.checkRoot(c, tx, height); err != nil {
			return nil, err
		}
		nullifier = &Version{Key: nk, Height: height, Index: uint32(i), TxID: id, Time: tx.Time, Lock: &quant.Lock{WriteOnce: true}}
	}
	v := Version{Key: tx.Key, Height: height, Index: uint32(i), TxID: id, Time: tx.Time, Signer: tx.PubKey, Lock: lock}
	if s.written == nil {
		s.written = make(map[string]*Version)
	}
	s.written[tx.Key] = &v
	out := []Version{v}
	if root != nil {
		if s.groups == nil {
			s.groups = make(map[string][]writtenGroup)
		}
		s.groups[tx.Key] = append(s.groups[tx.Key], writtenGroup{v: v, root: *root})
		if !id.IsZero() { // admission checks with no id (checkRecordNow)
			c.zk.cacheRoot(id, *root)
		}
	}
	if nullifier != nil {
		s.written[nullifier.Key] = nullifier
		out = append(out, *nullifier)
	}
	return out, nil
}

// recordWrites checks the keyed transactions of q (ids their ids), in
// order, against st, and returns the versions they make; st then holds
// them too. Every write is checked against the quant's height and time,
// so that every node decides alike.
func (c *Chain) recordWrites(q *quant.Quant, ids []quant.Hash, st *keyState) ([]Version, error) {
	var out []Version
	for i, tx := range q.Txs {
		if tx.Key == "" {
			continue
		}
		vs, err := st.write(c, tx, ids[i], q.Header.Height, i, q.Header.Time)
		if err != nil {
			return nil, txErr(i, err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// checkRecordNow checks a keyed transaction for admission: its write
// against the key's latest version at the tip, as if in the next quant at
// now. A quant checks it again (recordWrites): the lock may change first.
func (c *Chain) checkRecordNow(tx *quant.Tx, now int64) error {
	if tx.Key == "" {
		return nil
	}
	s := &keyState{base: c.atOrBefore(LastLocation)}
	_, err := s.write(c, tx, quant.Hash{}, c.Tip().Header.Height+1, 0, now)
	return err
}

// checkSecretLock requires a write of a key under a secret lock to carry a
// preimage proof of the lock's commitment for the version it replaces
// (the proof itself is verified before, by checkTxProof). Naming the
// replaced version stops a replay: anyone can re-randomize a Groth16
// proof, but not make it name a version that is not the latest.
func checkSecretLock(l *quant.Lock, prev *Version, tx *quant.Tx) error {
	if l.Commitment == nil {
		return nil
	}
	z := tx.ZK
	if z == nil || z.Circuit != quant.ZKPreimage || z.Commitment != *l.Commitment {
		return quant.Errorf(quant.CodeLockedSecret, "key %q is secret-locked: the write must prove knowledge of the secret behind %s", tx.Key, l.Commitment)
	}
	if z.Prev != prev.TxID {
		return quant.Errorf(quant.CodeLockedSecret, "key %q: the proof is for version %s, the latest is %s", tx.Key, z.Prev, prev.TxID)
	}
	return nil
}

// Limits of the record reads.
const (
	// MaxRecordPage bounds a page of History or Keys.
	MaxRecordPage = 1000
)

// Record returns key's latest version on the main chain, or ErrNotFound.
func (c *Chain) Record(key string) (Version, error) {
	if err := quant.CheckKey(key); err != nil {
		return Version{}, err
	}
	v, err := c.st.RecordAt(key, LastLocation)
	if errors.Is(err, ErrNotFound) {
		return Version{}, fmt.Errorf("%w: record %q", ErrNotFound, key)
	}
	return v, err
}

// History returns up to limit (at most MaxRecordPage) versions of key,
// oldest first, after after (nil: from the first).
func (c *Chain) History(key string, after *Location, limit int) ([]Version, error) {
	if err := quant.CheckKey(key); err != nil {
		return nil, err
	}
	return c.st.History(key, after, clampPage(limit))
}

// Keys returns up to limit (at most MaxRecordPage) keys starting with
// prefix, in byte order, after after.
func (c *Chain) Keys(prefix, after string, limit int) ([]string, error) {
	return c.st.Keys(prefix, after, clampPage(limit))
}

func clampPage(limit int) int {
	if limit <= 0 || limit > MaxRecordPage {
		return MaxRecordPage
	}
	return limit
}
