package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

const zkProveHelp = `Usage: qbc zk prove membership --keys DIR --identity FILE --members GROUP.json --scope S --message TEXT
       qbc zk prove preimage   --keys DIR --identity FILE --message TEXT
       qbc zk prove range      --keys DIR --value N --blinding FILE --min A [--max B] --message TEXT

Make a standalone proof, bound to --message (its public input bind is
BindOf(message)), and print it as JSON: the circuit, the public inputs, the
message and the proof. 'qbc zk verify' checks it offline. Proofs that
authorize a write or a read are made by 'qbc record put/get' instead, bound
to the transaction or the node's challenge.

membership: the identity's commitment is in the group (--members: a group
record's value, {"members":[...]}), with its nullifier in --scope.
preimage: knowledge of the identity's secret behind its commitment.
range: the value committed with the blinding (a secret in an identity-style
file, made if missing) lies in [--min, --max].
`

const zkProveExample = `qbc zk prove range --keys keys --value 42 --blinding age.blind --min 18 --message 'over 18' > proof.json
qbc zk verify --keys keys proof.json`

// proofFile is a standalone proof as JSON.
type proofFile struct {
	Circuit string      `json:"circuit"`
	Depth   int         `json:"depth,omitempty"`
	Publics publicsJSON `json:"publics"`
	Message string      `json:"message"`
	Proof   string      `json:"proof"`
}

type publicsJSON struct {
	Root       string `json:"root,omitempty"`
	Nullifier  string `json:"nullifier,omitempty"`
	Scope      string `json:"scope,omitempty"`
	Commitment string `json:"commitment,omitempty"`
	Min        uint64 `json:"min,omitempty"`
	Max        uint64 `json:"max,omitempty"`
	Bind       string `json:"bind"`
}

func runZKProve(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "zk prove", zkProveHelp, zkProveExample)
	dir := fs.String("keys", "", "key `directory` (CIRCUIT.pk)")
	identity := fs.String("identity", "", "identity `file`")
	members := fs.String("members", "", "group `file`: {\"members\":[...]}")
	scope := fs.String("scope", "", "nullifier `scope`")
	message := fs.String("message", "", "the `text` the proof is bound to")
	value := fs.Uint64("value", 0, "range: the `value`")
	blinding := fs.String("blinding", "", "range: the blinding's `file` (made if missing)")
	min := fs.Uint64("min", 0, "range: the least value")
	max := fs.Uint64("max", 1<<64-1, "range: the greatest value")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("zk prove", pos, 1, 1); err != nil {
		return err
	}
	c, err := zk.ParseCircuit(pos[0])
	if err != nil {
		return usagef("zk prove: %v", err)
	}
	if *dir == "" {
		return usagef("zk prove: give --keys DIR")
	}
	k, _, err := loadLocalKeys(*dir, c, keyDepth(*dir, c))
	if err != nil {
		return fmt.Errorf("zk prove: keys: %w", err)
	}
	bind := zk.BindOf([]byte(*message))
	out := proofFile{Circuit: c.String(), Depth: k.Depth, Message: *message}
	var proof []byte
	switch c {
	case zk.Membership, zk.Preimage:
		s, err := loadIdentity(*identity)
		if err != nil {
			return fmt.Errorf("zk prove: --identity: %w", err)
		}
		if c == zk.Preimage {
			p := zk.Publics{Commitment: zk.Commitment(s), Bind: bind}
			proof, err = zk.ProvePreimage(k, s, p)
			if err != nil {
				return fmt.Errorf("zk prove: %w", err)
			}
			out.Publics = publicsJSON{Commitment: p.Commitment.String(), Bind: bind.String()}
			break
		}
		b, err := os.ReadFile(*members)
		if err != nil {
			return fmt.Errorf("zk prove: --members: %w", err)
		}
		ms, err := zk.ParseGroupData(b)
		if err != nil {
			return fmt.Errorf("zk prove: --members: %w", err)
		}
		t, err := zk.NewTree(k.Depth, ms)
		if err != nil {
			return err
		}
		i := t.Index(zk.Commitment(s))
		if i < 0 {
			return fmt.Errorf("zk prove: this identity is not a member of the group")
		}
		path, _ := t.Path(i)
		sc := zk.ScopeOf(*scope)
		p := zk.Publics{Root: t.Root(), Nullifier: zk.Nullifier(s, sc), Scope: sc, Bind: bind}
		proof, err = zk.ProveMembership(k, zk.MemberWitness{Secret: s, Index: i, Path: path}, p)
		out.Publics = publicsJSON{Root: p.Root.String(), Nullifier: p.Nullifier.String(), Scope: *scope, Bind: bind.String()}
		if err != nil {
			return fmt.Errorf("zk prove: %w", err)
		}
	case zk.Range:
		bl, err := blindingFile(*blinding)
		if err != nil {
			return fmt.Errorf("zk prove: --blinding: %w", err)
		}
		p := zk.Publics{Commitment: zk.ValueCommitment(*value, bl), Min: *min, Max: *max, Bind: bind}
		proof, err = zk.ProveRange(k, *value, bl, p)
		if err != nil {
			return fmt.Errorf("zk prove: %w", err)
		}
		out.Publics = publicsJSON{Commitment: p.Commitment.String(), Min: *min, Max: *max, Bind: bind.String()}
	}
	if err != nil {
		return fmt.Errorf("zk prove: %w", err)
	}
	out.Proof = hex.EncodeToString(proof)
	return writeJSON(e.stdout, out)
}

// blindingFile reads a range commitment's blinding from path, making a
// new one (mode 0600) if path does not exist.
func blindingFile(path string) (zk.Field, error) {
	if path == "" {
		return zk.Field{}, fmt.Errorf("give a file")
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		s, err := zk.NewSecret()
		if err != nil {
			return zk.Field{}, err
		}
		return s, saveIdentity(path, s)
	}
	return loadIdentity(path)
}

const zkVerifyHelp = `Usage: qbc zk verify (--keys DIR | --vk FILE) PROOF.json|TX.json

Check a proof offline, with no node, under the verifying key (DIR/CIRCUIT.vk,
or --vk: compare its SHA-256 with a chain's rules, 'qbc zk rules' or GET
/v1/chains/{id}/zk/keys). The file is a standalone proof ('qbc zk prove':
its bind must be its message's), or a transaction carrying a zk part as the
node answers it ('qbc tx get ID', 'qbc record get KEY'): its bind is
recomputed from the transaction, so the proof checks only for that
transaction. A membership proof checks against the root it names; whether
that root was the group's when the write was made is the chain's check.
Prints "ok", or fails.
`

const zkVerifyExample = `qbc zk verify --keys keys proof.json
qbc record get ages/alice > alice.json && qbc zk verify --keys keys alice.json`

func runZKVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "zk verify", zkVerifyHelp, zkVerifyExample)
	dir := fs.String("keys", "", "key `directory` (CIRCUIT.vk)")
	vkFile := fs.String("vk", "", "verifying key `file`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("zk verify", pos, 1, 1); err != nil {
		return err
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	var pf proofFile
	if err := json.Unmarshal(b, &pf); err != nil {
		return fmt.Errorf("zk verify: not a proof file: %v", err)
	}
	if pf.Circuit == "" {
		return verifyTxProof(e, b, *dir, *vkFile)
	}
	c, err := zk.ParseCircuit(pf.Circuit)
	if err != nil {
		return fmt.Errorf("zk verify: %w", err)
	}
	path := *vkFile
	if path == "" {
		if *dir == "" {
			return usagef("zk verify: give --keys DIR or --vk FILE")
		}
		path = filepath.Join(*dir, c.String()+".vk")
	}
	vb, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	vk, err := zk.DecodeVerifyingKey(vb)
	if err != nil {
		return fmt.Errorf("zk verify: %w", err)
	}
	var p zk.Publics
	p.Min, p.Max = pf.Publics.Min, pf.Publics.Max
	for _, f := range []struct {
		s   string
		dst *zk.Field
	}{{pf.Publics.Root, &p.Root}, {pf.Publics.Nullifier, &p.Nullifier}, {pf.Publics.Commitment, &p.Commitment}, {pf.Publics.Bind, &p.Bind}} {
		if f.s == "" {
			continue
		}
		if *f.dst, err = zk.ParseFieldHex(f.s); err != nil {
			return fmt.Errorf("zk verify: %w", err)
		}
	}
	if c == zk.Membership {
		p.Scope = zk.ScopeOf(pf.Publics.Scope)
	}
	if p.Bind != zk.BindOf([]byte(pf.Message)) {
		return fmt.Errorf("zk verify: the proof is not bound to its message")
	}
	proof, err := hex.DecodeString(pf.Proof)
	if err != nil {
		return fmt.Errorf("zk verify: proof: not hex")
	}
	if err := zk.Verify(c, pf.Depth, vk, proof, p); err != nil {
		return fmt.Errorf("zk verify: %w", err)
	}
	fmt.Fprintf(e.stdout, "ok: %s proof bound to %q\n", c, pf.Message)
	return nil
}

// verifyTxProof checks the zk part of a transaction in JSON (a tx, or an
// answer holding one under "tx"), its bind recomputed from the
// transaction.
func verifyTxProof(e *env, b []byte, dir, vkFile string) error {
	var holder struct {
		Tx *api.Tx `json:"tx"`
	}
	var t api.Tx
	if err := json.Unmarshal(b, &holder); err == nil && holder.Tx != nil {
		t = *holder.Tx
	} else if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("zk verify: neither a proof file nor a transaction: %v", err)
	}
	if t.ZK == nil {
		return fmt.Errorf("zk verify: the transaction carries no zk proof")
	}
	t.ID = nil // the proof is what is checked here, not the id the answer shows
	tx, err := t.ToTx()
	if err != nil {
		return fmt.Errorf("zk verify: %w", err)
	}
	c := zk.Circuit(tx.ZK.Circuit)
	path := vkFile
	if path == "" {
		if dir == "" {
			return usagef("zk verify: give --keys DIR or --vk FILE")
		}
		path = filepath.Join(dir, c.String()+".vk")
	}
	vb, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	vk, err := zk.DecodeVerifyingKey(vb)
	if err != nil {
		return fmt.Errorf("zk verify: %w", err)
	}
	p := zk.Publics{Min: tx.ZK.Min, Max: tx.ZK.Max, Bind: zk.BindOf(tx.BindBytes())}
	for _, f := range []struct {
		src quant.Hash
		dst *zk.Field
	}{{tx.ZK.Root, &p.Root}, {tx.ZK.Nullifier, &p.Nullifier}, {tx.ZK.Commitment, &p.Commitment}} {
		if *f.dst, err = zk.ParseField(f.src[:]); err != nil {
			return fmt.Errorf("zk verify: %w", err)
		}
	}
	if c == zk.Membership {
		p.Scope = zk.ScopeOf(tx.ZK.Scope)
	}
	if err := zk.Verify(c, keyDepth(dir, c), vk, tx.ZK.Proof, p); err != nil {
		return fmt.Errorf("zk verify: %w", err)
	}
	fmt.Fprintf(e.stdout, "ok: %s proof of transaction %s\n", c, tx.ID())
	return nil
}
