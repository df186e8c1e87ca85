package chain

import (
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/consensys/gnark/backend/groth16"
	"golang.org/x/sync/errgroup"

	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

// Zero-knowledge proofs (docs/zk.md). A transaction's proof is checked in
// two steps, both wherever transactions are checked (admission, templates,
// Add for every quant, reorganisations, VerifyStored):
//
//   - checkTxProof, stateless: the chain's rules take the circuit, the
//     public inputs are canonical field elements, and the proof verifies
//     under the verifying key the rules hold, bound to the transaction's
//     BindBytes. Costly (about a millisecond), so run on all cores for a
//     quant (checkTxProofs) and, like a signature, skipped in Add for a
//     transaction this node verified at admission.
//   - in keyState.write, against the records: a membership proof's root is
//     its group's root now or within the group's window, its nullifier
//     unspent (the write spends it: the reserved key NullifierKey, written
//     once, indexed and rewound with the records); a secret lock's
//     commitment is the one proven, for the version it replaces.

// zkKeys are the chain's decoded verifying keys and group roots.
type zkKeys struct {
	vk    map[zk.Circuit]groth16.VerifyingKey
	depth int // the membership circuit's depth

	mu    sync.Mutex
	roots map[quant.Hash]zk.Field // group record version (tx id) → its root
}

// maxCachedRoots bounds the group roots kept; a miss recomputes one.
const maxCachedRoots = 4096

// loadZK decodes the verifying keys in the rules (nil when the chain has
// no zk rules). A key that does not decode makes the rules invalid.
func loadZK(rules *quant.Rules) (*zkKeys, error) {
	if rules.ZK == nil {
		return nil, nil
	}
	k := &zkKeys{vk: map[zk.Circuit]groth16.VerifyingKey{}, roots: map[quant.Hash]zk.Field{}}
	for i, c := range rules.ZK.Circuits {
		circuit, err := zk.ParseCircuit(c.Circuit)
		if err != nil {
			return nil, quant.Errorf(quant.CodeBadRules, "zk.circuits[%d]: %v", i, err)
		}
		b, err := decodeHex(c.VK)
		if err != nil {
			return nil, quant.Errorf(quant.CodeBadRules, "zk.circuits[%d].vk: %v", i, err)
		}
		vk, err := zk.DecodeVerifyingKey(b)
		if err != nil {
			return nil, quant.Errorf(quant.CodeBadRules, "zk.circuits[%d].vk: %v", i, err)
		}
		k.vk[circuit] = vk
		if circuit == zk.Membership {
			k.depth = c.Depth
		}
	}
	return k, nil
}

// publicsOf reads a transaction's zk part as the proof's public inputs,
// refusing a non-canonical field element: one element has one encoding,
// so a nullifier cannot be spent twice under two spellings.
func publicsOf(tx *quant.Tx) (zk.Publics, error) {
	z := tx.ZK
	p := zk.Publics{Min: z.Min, Max: z.Max, Bind: zk.BindOf(tx.BindBytes())}
	for _, f := range []struct {
		dst *zk.Field
		src quant.Hash
	}{{&p.Root, z.Root}, {&p.Nullifier, z.Nullifier}, {&p.Commitment, z.Commitment}} {
		v, err := zk.ParseField(f.src[:])
		if err != nil {
			return p, quant.Errorf(quant.CodeMalformed, "zk: a public input is not below the BN254 scalar modulus")
		}
		*f.dst = v
	}
	if z.Circuit == quant.ZKMembership {
		p.Scope = zk.ScopeOf(z.Scope)
	}
	return p, nil
}

// checkTxProof checks a transaction's zk part alone: the chain takes the
// circuit; a membership write's key is under a group's prefix and its
// scope is the key's directory (quant.ScopeOfKey); the proof verifies,
// bound to this transaction. It stops forged proofs, proofs lifted from
// another transaction or chain (the bind covers the chain id and every
// field), and a member writing twice in a directory (a poll's ballots) by
// naming a new scope each time.
func (c *Chain) checkTxProof(tx *quant.Tx) error {
	if tx.ZK == nil {
		return nil
	}
	circuit := zk.Circuit(tx.ZK.Circuit)
	if c.zk == nil || c.zk.vk[circuit] == nil {
		return quant.Errorf(quant.CodeNotAllowed, "this chain takes no %s proofs", circuit)
	}
	if circuit == zk.Membership {
		if c.rules.GroupFor(tx.Key) == nil {
			return quant.Errorf(quant.CodeNotAllowed, "key %q is under no group's prefix", tx.Key)
		}
		if want := quant.ScopeOfKey(tx.Key); tx.ZK.Scope != want {
			return quant.Errorf(quant.CodeMalformed, "zk: the nullifier scope of a write of %q is %q (its directory), not %q", tx.Key, want, tx.ZK.Scope)
		}
	}
	p, err := publicsOf(tx)
	if err != nil {
		return err
	}
	if err := zk.Verify(circuit, c.zk.depth, c.zk.vk[circuit], tx.ZK.Proof, p); err != nil {
		return quant.Errorf(quant.CodeBadProof, "%s proof: %v", circuit, err)
	}
	return nil
}

// checkTxProofs runs checkTxProof on txs on all cores, skipping those skip
// names; it returns the index and error of a failure (the lowest it saw),
// or -1, nil.
func (c *Chain) checkTxProofs(txs []*quant.Tx, skip func(i int) bool) (int, error) {
	var idx []int
	for i, tx := range txs {
		if tx.ZK != nil && (skip == nil || !skip(i)) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return -1, nil
	}
	errs := make([]error, len(idx))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for j, i := range idx {
		g.Go(func() error {
			errs[j] = c.checkTxProof(txs[i])
			return nil
		})
	}
	g.Wait()
	for j, err := range errs {
		if err != nil {
			return idx[j], err
		}
	}
	return -1, nil
}

// checkTxProofsInto runs checkTxProof, on all cores, for each transaction
// of txs with a zk part whose errs entry is nil and that skip does not
// name, and sets it.
func (c *Chain) checkTxProofsInto(txs []*quant.Tx, errs []error, skip func(i int) bool) {
	if !slices.ContainsFunc(txs, func(tx *quant.Tx) bool { return tx.ZK != nil }) {
		return // the common case: no proof, no goroutines
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, tx := range txs {
		if tx.ZK == nil || errs[i] != nil || skip(i) {
			continue
		}
		g.Go(func() error {
			errs[i] = c.checkTxProof(tx)
			return nil
		})
	}
	g.Wait()
}

// GroupMembers parses a group record's data into its members' commitments.
func GroupMembers(data []byte) ([]zk.Field, error) {
	ms, err := zk.ParseGroupData(data)
	if err != nil {
		return nil, quant.Errorf(quant.CodeBadData, "%v", err)
	}
	return ms, nil
}

// groupRoot computes the Merkle root of a group record's data, refusing a
// value that is not a member list or holds more than the tree takes. It
// stops a group whose root nobody could prove against.
func (c *Chain) groupRoot(data []byte) (zk.Field, error) {
	ms, err := GroupMembers(data)
	if err != nil {
		return zk.Field{}, err
	}
	t, err := zk.NewTree(c.zk.depth, ms)
	if err != nil {
		return zk.Field{}, quant.Errorf(quant.CodeBadData, "group record: %v", err)
	}
	return t.Root(), nil
}

func (k *zkKeys) cachedRoot(id quant.Hash) (zk.Field, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.roots[id]
	return r, ok
}

func decodeHex(s string) ([]byte, error) { return hex.DecodeString(s) }

func (k *zkKeys) cacheRoot(id quant.Hash, r zk.Field) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.roots) >= maxCachedRoots {
		for x := range k.roots {
			delete(k.roots, x)
			break
		}
	}
	k.roots[id] = r
}

// storedRoot is the root of a stored group version: cached, or computed
// from its transaction.
func (c *Chain) storedRoot(v *Version) (zk.Field, error) {
	if r, ok := c.zk.cachedRoot(v.TxID); ok {
		return r, nil
	}
	h, err := c.st.HashAt(v.Height)
	if err != nil {
		return zk.Field{}, err
	}
	q, err := c.st.Quant(h)
	if err != nil {
		return zk.Field{}, err
	}
	if int(v.Index) >= len(q.Txs) {
		return zk.Field{}, fmt.Errorf("chain: group version at %d/%d: no such transaction", v.Height, v.Index)
	}
	r, err := c.groupRoot(q.Txs[v.Index].Data)
	if err != nil {
		return zk.Field{}, err
	}
	c.zk.cacheRoot(v.TxID, r)
	return r, nil
}

// maxRootLookback bounds the group versions a root is looked for in.
const maxRootLookback = 256

// checkRoot requires a membership proof's root to be its group's root at
// height: the latest version's, or one replaced less than the group's
// window ago. It stops proofs by removed members (after the window) and
// proofs against roots the group never had.
func (s *keyState) checkRoot(c *Chain, tx *quant.Tx, height uint64) error {
	g := c.rules.GroupFor(tx.Key)
	key := quant.GroupKey(g.Name)
	want, _ := zk.ParseField(tx.ZK.Root[:]) // canonical: checkTxProof ran
	var (
		newer *uint64 // height of the version after the one considered
		n     int
	)
	// next considers one version, newest first: it is in force (the
	// latest) or was replaced within the window. It reports whether to
	// stop, and whether the root is found.
	next := func(v *Version, root zk.Field) (stop, found bool) {
		n++
		if newer != nil && *newer+g.RootWindow < height {
			return true, false
		}
		if root == want {
			return true, true
		}
		h := v.Height
		newer = &h
		return n >= maxRootLookback, false
	}
	written := s.groups[key]
	for i := len(written) - 1; i >= 0; i-- {
		if stop, found := next(&written[i].v, written[i].root); stop {
			return rootErr(found, tx, g)
		}
	}
	v, err := s.base(key)
	for err == nil && v != nil {
		root, rerr := c.storedRoot(v)
		if rerr != nil {
			return rerr
		}
		if stop, found := next(v, root); stop {
			return rootErr(found, tx, g)
		}
		v, err = c.before(key, v.Location())
	}
	if err != nil {
		return err
	}
	return rootErr(false, tx, g)
}

func rootErr(found bool, tx *quant.Tx, g *quant.ZKGroup) error {
	if found {
		return nil
	}
	return quant.Errorf(quant.CodeStaleRoot, "root %s is not group %q's root, nor one replaced in its last %d quants", tx.ZK.Root, g.Name, g.RootWindow)
}

// before returns the stored version of key just before loc, or nil.
func (c *Chain) before(key string, loc Location) (*Version, error) {
	switch {
	case loc.Index > 0:
		loc.Index--
	case loc.Height == 0:
		return nil, nil
	default:
		loc = Location{Height: loc.Height - 1, Index: ^uint32(0)}
	}
	return c.atOrBefore(loc)(key)
}

// writtenGroup is a group version written in the quants being checked.
type writtenGroup struct {
	v    Version
	root zk.Field
}

// ReadGated reports whether key is under a read-gated group's prefix: its
// records are served only to a member's proof (CheckRead).
func (c *Chain) ReadGated(key string) bool {
	g := c.rules.GroupFor(key)
	return g != nil && g.ReadGated
}

// CheckRead checks a read proof for key: a membership proof of the group
// key falls under, against its root now or within its window, bound to
// this chain, the node's challenge and the key, with the challenge's read
// scope. The node checks the challenge is its own, fresh and unused.
func (c *Chain) CheckRead(key string, challenge []byte, z *quant.ZK) error {
	g := c.rules.GroupFor(key)
	if g == nil || c.zk == nil || c.zk.vk[zk.Membership] == nil {
		return quant.Errorf(quant.CodeNotAllowed, "key %q is under no group's prefix", key)
	}
	if z == nil || z.Circuit != quant.ZKMembership || z.Scope != zk.ReadScope(challenge) {
		return quant.Errorf(quant.CodeBadProof, "a read needs a membership proof in the challenge's scope")
	}
	tx := &quant.Tx{Key: key, ZK: z}
	p, err := publicsOf(tx)
	if err != nil {
		return err
	}
	p.Bind = zk.BindOf(zk.ReadBindBytes(c.id, challenge, key))
	if err := zk.Verify(zk.Membership, c.zk.depth, c.zk.vk[zk.Membership], z.Proof, p); err != nil {
		return quant.Errorf(quant.CodeBadProof, "read proof: %v", err)
	}
	s := &keyState{base: c.atOrBefore(LastLocation)}
	return s.checkRoot(c, tx, c.Tip().Header.Height+1)
}

// ZKProvingKeyHash returns the SHA-256 the rules name for circuit's
// proving key, and whether they name one.
func (c *Chain) ZKProvingKeyHash(circuit string) ([32]byte, bool) {
	e := c.rules.ZKCircuit(circuit)
	if e == nil {
		return [32]byte{}, false
	}
	b, err := hex.DecodeString(e.PKSHA256)
	if err != nil || len(b) != 32 {
		return [32]byte{}, false
	}
	return [32]byte(b), true
}
