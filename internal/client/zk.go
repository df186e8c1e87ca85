package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

// Zero-knowledge access (docs/zk.md): the keys a chain's rules name,
// anonymous writes and reads by a group's members, joins by its admins.
// Proofs are made here, on the client; the identity secret never leaves.

// ZKRules returns the chain's rules, checked against the chain id (the
// bang made from them must hash to it), so that the keys they name are the
// chain's and not the node's say-so.
func (c *Client) ZKRules(ctx context.Context) (*quant.Rules, error) {
	ch, err := c.Chain(ctx)
	if err != nil {
		return nil, err
	}
	r, err := quant.DecodeRules(ch.Rules)
	if err != nil {
		return nil, fmt.Errorf("client: the chain's rules: %w", err)
	}
	bang, err := quant.NewBang(*r)
	if err != nil {
		return nil, fmt.Errorf("client: the chain's rules: %w", err)
	}
	want := ch.ID
	if !c.chain.IsZero() {
		want = c.chain
	}
	if bang.Hash() != want {
		return nil, fmt.Errorf("client: the rules the node sent do not hash to chain %s", want)
	}
	if r.ZK == nil {
		return nil, fmt.Errorf("client: chain %s has no zk rules", want)
	}
	return r, nil
}

// ZKKeys returns circuit's keys on the chain: the verifying key from the
// rules, and the proving key from pkFile if set or else from the node,
// accepted only if its SHA-256 is the one the rules name.
func (c *Client) ZKKeys(ctx context.Context, rules *quant.Rules, circuit zk.Circuit, pkFile []byte) (*zk.Keys, error) {
	e := rules.ZKCircuit(circuit.String())
	if e == nil {
		return nil, fmt.Errorf("client: the chain's rules name no %s circuit", circuit)
	}
	vb, err := hex.DecodeString(e.VK)
	if err != nil {
		return nil, err
	}
	vk, err := zk.DecodeVerifyingKey(vb)
	if err != nil {
		return nil, err
	}
	hb, err := hex.DecodeString(e.PKSHA256)
	if err != nil || len(hb) != 32 {
		return nil, fmt.Errorf("client: the rules' pk_sha256 for %s is not a hash", circuit)
	}
	b := pkFile
	if b == nil {
		resp, err := c.send(ctx, http.MethodGet, c.v1("/zk/keys/"+circuit.String()+".pk"), "", nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if b, err = io.ReadAll(io.LimitReader(resp.Body, zk.MaxProvingKeySize+1)); err != nil {
			return nil, fmt.Errorf("client: proving key: %w", err)
		}
	}
	pk, err := zk.DecodeProvingKey(b, [32]byte(hb))
	if err != nil {
		return nil, fmt.Errorf("client: %s proving key: %w", circuit, err)
	}
	return &zk.Keys{Circuit: circuit, Depth: e.Depth, PK: pk, VK: vk}, nil
}

// ZKGroup returns a group's members (its record's list) and the record.
func (c *Client) ZKGroup(ctx context.Context, name string) ([]zk.Field, api.Record, error) {
	rec, err := c.Record(ctx, quant.GroupKey(name))
	if err != nil {
		return nil, rec, err
	}
	ms, err := zk.ParseGroupData(rec.Tx.Data)
	return ms, rec, err
}

// ZKJoin adds member (an identity commitment) to group, as one of its
// admins: a new version of the group record, signed by admin. Joining
// twice is a no-op refusal.
func (c *Client) ZKJoin(ctx context.Context, admin ed25519.PrivateKey, group string, member zk.Field) (api.Submitted, error) {
	ms, _, err := c.ZKGroup(ctx, group)
	if err != nil && !IsNotFound(err) {
		return api.Submitted{}, err
	}
	if slices.Contains(ms, member) {
		return api.Submitted{}, fmt.Errorf("client: already a member of group %q", group)
	}
	ms = append(ms, member)
	chain, err := c.resolveChain(ctx)
	if err != nil {
		return api.Submitted{}, err
	}
	tx := NewWrite(chain, quant.GroupKey(group), zk.GroupData(ms))
	tx.Sign(admin)
	return c.SubmitTx(ctx, tx)
}

// resolveChain is the client's chain, or the node's default chain's id.
func (c *Client) resolveChain(ctx context.Context) (quant.Hash, error) {
	if !c.chain.IsZero() {
		return c.chain, nil
	}
	info, err := c.Chain(ctx)
	if err != nil {
		return quant.Hash{}, err
	}
	return info.ID, nil
}

// NewWrite is an unsigned JSON record write of key on chain, now, with a
// random nonce: the start of an anonymous or secret-locked write.
func NewWrite(chain quant.Hash, key string, data []byte) *quant.Tx {
	return &quant.Tx{ChainID: chain, Time: time.Now().UnixMilli(), Nonce: randNonce(), Kind: quant.DataJSON, Data: data, Key: key}
}

// ZKWriteAnonymous writes tx (a record write, unsigned, on the client's
// chain) as a member of the group its key falls under: it proves
// membership with identity against the group's current list, spending
// the nullifier of the key's directory (quant.ScopeOfKey). A second write
// in the same directory is refused with nullifier_used.
func (c *Client) ZKWriteAnonymous(ctx context.Context, k *zk.Keys, rules *quant.Rules, tx *quant.Tx, identity zk.Field) (api.Submitted, error) {
	scope := quant.ScopeOfKey(tx.Key)
	g := rules.GroupFor(tx.Key)
	if g == nil {
		return api.Submitted{}, fmt.Errorf("client: key %q is under no group's prefix", tx.Key)
	}
	ms, _, err := c.ZKGroup(ctx, g.Name)
	if err != nil {
		return api.Submitted{}, err
	}
	if err := zk.AttachMembership(tx, k, identity, ms, scope); err != nil {
		return api.Submitted{}, err
	}
	return c.SubmitTx(ctx, tx)
}

// ZKWriteSecret writes tx under a secret lock: it proves knowledge of
// secret for the key's latest version.
func (c *Client) ZKWriteSecret(ctx context.Context, k *zk.Keys, tx *quant.Tx, secret zk.Field) (api.Submitted, error) {
	rec, err := c.Record(ctx, tx.Key)
	if err != nil {
		return api.Submitted{}, err
	}
	if rec.Tx.ID == nil {
		return api.Submitted{}, fmt.Errorf("client: record %q: no transaction id", tx.Key)
	}
	if err := zk.AttachPreimage(tx, k, secret, *rec.Tx.ID); err != nil {
		return api.Submitted{}, err
	}
	return c.SubmitTx(ctx, tx)
}

// ZKReadAnonymous reads a read-gated record as a member of its group: a
// fresh challenge from the node, a proof bound to it, the record.
func (c *Client) ZKReadAnonymous(ctx context.Context, k *zk.Keys, rules *quant.Rules, key string, identity zk.Field) (api.Record, error) {
	var out api.Record
	g := rules.GroupFor(key)
	if g == nil {
		return out, fmt.Errorf("client: key %q is under no group's prefix", key)
	}
	ms, _, err := c.ZKGroup(ctx, g.Name)
	if err != nil {
		return out, err
	}
	var ch api.ZKChallenge
	if err := c.do(ctx, http.MethodGet, c.v1("/zk/challenge"), "", nil, MaxSmallResponse, &ch); err != nil {
		return out, err
	}
	cb, err := hex.DecodeString(ch.Challenge)
	if err != nil || len(cb) != zk.ChallengeSize {
		return out, fmt.Errorf("client: the node's challenge is not %d hex bytes", zk.ChallengeSize)
	}
	chain, err := c.resolveChain(ctx)
	if err != nil {
		return out, err
	}
	z, err := zk.ProveRead(k, identity, ms, chain, cb, key)
	if err != nil {
		return out, err
	}
	body, _ := json.Marshal(api.ZKRead{Key: key, Challenge: ch.Challenge, ZK: *api.FromZK(z)})
	err = c.do(ctx, http.MethodPost, c.v1("/zk/read"), "application/json", body, MaxSmallResponse+2*quant.MaxTxSize, &out)
	return out, err
}

// IsNotFound reports whether err is the node's not_found answer.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Err != nil && se.Err.Err.Code == api.CodeNotFound
}

func randNonce() uint64 {
	var n [8]byte
	if _, err := rand.Read(n[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return binary.LittleEndian.Uint64(n[:])
}
