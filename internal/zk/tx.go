package zk

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/qbc-chain/qbc/internal/quant"
)

// The functions below fill a transaction's zk part for a client: they set
// the public inputs, compute the bind from the transaction's BindBytes and
// prove. Set every other field (the writer's key too) before, and sign
// after: the proof binds the rest of the transaction, the signature the
// proof.

// AttachMembership proves that secret's commitment is among members (the
// group record's list, in order, at the rules' depth), spending its
// nullifier in scope (for a write, quant.ScopeOfKey of its key).
func AttachMembership(tx *quant.Tx, k *Keys, secret Field, members []Field, scope string) error {
	t, err := NewTree(k.Depth, members)
	if err != nil {
		return err
	}
	i := t.Index(Commitment(secret))
	if i < 0 {
		return fmt.Errorf("zk: this identity is not a member of the group")
	}
	path, err := t.Path(i)
	if err != nil {
		return err
	}
	root := t.Root()
	sc := ScopeOf(scope)
	null := Nullifier(secret, sc)
	tx.ZK = &quant.ZK{Circuit: quant.ZKMembership, Root: quant.Hash(root), Nullifier: quant.Hash(null), Scope: scope}
	p := Publics{Root: root, Nullifier: null, Scope: sc, Bind: BindOf(tx.BindBytes())}
	proof, err := ProveMembership(k, MemberWitness{Secret: secret, Index: i, Path: path}, p)
	if err != nil {
		return err
	}
	tx.ZK.Proof = proof
	return nil
}

// AttachPreimage proves knowledge of the secret behind a secret lock's
// commitment, for a write replacing the version prev (the key's latest
// transaction id).
func AttachPreimage(tx *quant.Tx, k *Keys, secret Field, prev quant.Hash) error {
	c := Commitment(secret)
	tx.ZK = &quant.ZK{Circuit: quant.ZKPreimage, Commitment: quant.Hash(c), Prev: prev}
	proof, err := ProvePreimage(k, secret, Publics{Commitment: c, Bind: BindOf(tx.BindBytes())})
	if err != nil {
		return err
	}
	tx.ZK.Proof = proof
	return nil
}

// AttachRange proves that the write's commitment MiMC(value, blinding)
// holds a value in [min, max].
func AttachRange(tx *quant.Tx, k *Keys, value uint64, blinding Field, min, max uint64) error {
	c := ValueCommitment(value, blinding)
	tx.ZK = &quant.ZK{Circuit: quant.ZKRange, Commitment: quant.Hash(c), Min: min, Max: max}
	proof, err := ProveRange(k, value, blinding, Publics{Commitment: c, Min: min, Max: max, Bind: BindOf(tx.BindBytes())})
	if err != nil {
		return err
	}
	tx.ZK.Proof = proof
	return nil
}

// RuleOf is the rules' entry for keys: the circuit, its depth, the
// verifying key in full and the proving key's hash.
func RuleOf(k *Keys) quant.ZKCircuit {
	pk := KeyHash(EncodeProvingKey(k.PK))
	return quant.ZKCircuit{Circuit: k.Circuit.String(), Depth: k.Depth,
		VK: hex.EncodeToString(EncodeVerifyingKey(k.VK)), PKSHA256: hex.EncodeToString(pk[:])}
}

// GroupData is a group record's value for members (canonical JSON).
func GroupData(members []Field) []byte {
	b := []byte(`{"members":[`)
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, m.String()...)
		b = append(b, '"')
	}
	return append(b, "]}"...)
}

// ChallengeSize is the size of a node's read challenge.
const ChallengeSize = 32

// ReadScope is the nullifier scope of an anonymous read: one per
// challenge, so that two reads by one member cannot be linked by their
// nullifiers.
func ReadScope(challenge []byte) string { return "qbc/read/" + hex.EncodeToString(challenge) }

// ReadBindBytes are what a read proof binds: the chain, the node's
// challenge and the key asked for, under their own domain tag.
func ReadBindBytes(chain quant.Hash, challenge []byte, key string) []byte {
	b := append([]byte("qbc/zk-read/v1\x00"), chain[:]...)
	b = append(b, challenge...)
	return append(b, key...)
}

// ProveRead proves membership of the group of members for a read of key
// on chain, bound to the node's challenge.
func ProveRead(k *Keys, secret Field, members []Field, chain quant.Hash, challenge []byte, key string) (*quant.ZK, error) {
	t, err := NewTree(k.Depth, members)
	if err != nil {
		return nil, err
	}
	i := t.Index(Commitment(secret))
	if i < 0 {
		return nil, fmt.Errorf("zk: this identity is not a member of the group")
	}
	path, err := t.Path(i)
	if err != nil {
		return nil, err
	}
	scope := ReadScope(challenge)
	sc := ScopeOf(scope)
	root, null := t.Root(), Nullifier(secret, sc)
	p := Publics{Root: root, Nullifier: null, Scope: sc, Bind: BindOf(ReadBindBytes(chain, challenge, key))}
	proof, err := ProveMembership(k, MemberWitness{Secret: secret, Index: i, Path: path}, p)
	if err != nil {
		return nil, err
	}
	return &quant.ZK{Circuit: quant.ZKMembership, Root: quant.Hash(root), Nullifier: quant.Hash(null), Scope: scope, Proof: proof}, nil
}

// ParseGroupData reads a group record's value, {"members":[hex, ...]}:
// the members' identity commitments in tree order.
func ParseGroupData(data []byte) ([]Field, error) {
	var d struct {
		Members []string `json:"members"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("group record: %v", err)
	}
	out := make([]Field, len(d.Members))
	for i, m := range d.Members {
		f, err := ParseFieldHex(m)
		if err != nil {
			return nil, fmt.Errorf("group record: member %d: %v", i, err)
		}
		out[i] = f
	}
	return out, nil
}
