package proof_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbc-chain/qbc/internal/merkle"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

var update = flag.Bool("update", false, "rewrite testdata/proof.json")

// fixture is a small chain: quants at heights 7.. on chain id, each with
// its transactions, every one linked to the one before.
type fixture struct {
	chain   quant.Hash
	headers []*quant.Header
	txs     [][]*quant.Tx
}

// newFixture makes a chain of len(counts) quants, the i-th holding
// counts[i] transactions (signed with a fixed key, so the bytes are the
// same on every run).
func newFixture(counts ...int) *fixture {
	return newFixtureOn(quant.Sum("test", []byte("chain")), counts...)
}

// newFixtureOn is newFixture on another chain id.
func newFixtureOn(chain quant.Hash, counts ...int) *fixture {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	f := &fixture{chain: chain}
	prev := quant.Sum("test", []byte("parent"))
	for i, n := range counts {
		txs := make([]*quant.Tx, n)
		for j := range txs {
			txs[j] = &quant.Tx{ChainID: f.chain, Time: 1767225600000 + int64(i), Nonce: uint64(100*i + j),
				Kind: quant.DataJSON, Data: []byte(fmt.Sprintf(`{"n":%d}`, 100*i+j))}
			if j%2 == 0 {
				txs[j].Sign(key)
			}
		}
		h := &quant.Header{ChainID: f.chain, Height: uint64(7 + i), Prev: prev, TxRoot: quant.TxRoot(txs),
			Time: 1767225600000 + int64(i), TxCount: uint32(n), Seal: []byte{byte(i), 0xaa, 0xbb}}
		f.headers = append(f.headers, h)
		f.txs = append(f.txs, txs)
		prev = h.Hash()
	}
	return f
}

// proof proves transaction index of quant q up to quant to.
func (f *fixture) proof(t testing.TB, q, index, to int) *proof.Proof {
	t.Helper()
	ids := make([][merkle.Size]byte, len(f.txs[q]))
	for i, tx := range f.txs[q] {
		ids[i] = tx.ID()
	}
	p, err := merkle.Proof(ids, index)
	if err != nil {
		t.Fatal(err)
	}
	path := make([]quant.Hash, len(p))
	for i := range p {
		path[i] = p[i]
	}
	return proof.New(f.txs[q][index], uint32(index), f.headers[q], path, f.headers[q+1:to+1])
}

func (f *fixture) hash(i int) quant.Hash { return f.headers[i].Hash() }

func TestVerify(t *testing.T) {
	f := newFixture(1, 2, 3, 5, 7, 1)
	for q, txs := range f.txs {
		for i := range txs {
			for to := q; to < len(f.headers); to++ {
				p := f.proof(t, q, i, to)
				// Any quant from the holding one to the proof's last is a
				// hash to trust.
				for trust := q; trust <= to; trust++ {
					v, err := proof.Verify(p, f.hash(trust))
					if err != nil {
						t.Fatalf("quant %d tx %d to %d trusting %d: %v", q, i, to, trust, err)
					}
					want := txs[i]
					if v.ID != want.ID() || !bytes.Equal(v.Tx.Encode(), want.Encode()) || v.Height != uint64(7+q) ||
						v.Quant != f.hash(q) || v.Index != uint32(i) || v.Chain != f.chain ||
						v.TrustedHeight != uint64(7+trust) || v.Confirmations() != uint64(trust-q+1) {
						t.Fatalf("quant %d tx %d to %d trusting %d: verified %+v", q, i, to, trust, v)
					}
				}
				// A later quant than the proof reaches is not trusted.
				if to+1 < len(f.headers) {
					if _, err := proof.Verify(p, f.hash(to+1)); proof.CodeOf(err) != proof.CodeNotTrusted {
						t.Fatalf("quant %d tx %d to %d trusting %d: %v, want not_trusted", q, i, to, to+1, err)
					}
				}
			}
		}
	}
}

// TestVerifyKeepsNothing checks that the verified transaction shares no
// memory with the proof.
func TestVerifyKeepsNothing(t *testing.T) {
	f := newFixture(3)
	p := f.proof(t, 0, 1, 0)
	v, err := proof.Verify(p, f.hash(0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Tx {
		p.Tx[i] = 0
	}
	if v.Tx.ID() != f.txs[0][1].ID() {
		t.Fatal("the verified transaction changed with the proof's bytes")
	}
}

// TestVerifyRefuses names each check and the code it fails with.
func TestVerifyRefuses(t *testing.T) {
	f := newFixture(5, 2, 1, 3)
	// A quant whose transaction names another chain, and its proof.
	other := newFixtureOn(quant.Sum("test", []byte("other")), 5)
	mixed := &quant.Header{ChainID: f.chain, Height: 7, Prev: f.headers[0].Prev, TxRoot: quant.TxRoot(other.txs[0]),
		TxCount: 5, Seal: []byte{1}}
	mixedProof := func() (*proof.Proof, quant.Hash) {
		p := other.proof(t, 0, 2, 0)
		p.Header = mixed.Encode()
		return p, mixed.Hash()
	}
	big := &quant.Tx{ChainID: f.chain, Kind: quant.DataBytes, Data: make([]byte, quant.MaxDataSize+1)}
	tests := []struct {
		name   string
		change func(p *proof.Proof) quant.Hash // returns the hash to trust
		want   proof.Code
	}{
		{"unchanged", func(p *proof.Proof) quant.Hash { return f.hash(3) }, ""},
		{"trust an unrelated quant", func(p *proof.Proof) quant.Hash { return quant.Sum("x") }, proof.CodeNotTrusted},
		{"trust the holding quant's parent", func(p *proof.Proof) quant.Hash { return f.headers[0].Prev }, proof.CodeNotTrusted},
		{"another transaction of the quant", func(p *proof.Proof) quant.Hash {
			p.Tx = f.txs[0][3].Encode()
			return f.hash(3)
		}, proof.CodeNotIncluded},
		{"a transaction of another quant", func(p *proof.Proof) quant.Hash {
			p.Tx = f.txs[1][0].Encode()
			return f.hash(3)
		}, proof.CodeNotIncluded},
		{"index moved", func(p *proof.Proof) quant.Hash { p.Index = 3; return f.hash(3) }, proof.CodeNotIncluded},
		{"index past the end", func(p *proof.Proof) quant.Hash { p.Index = 5; return f.hash(3) }, proof.CodeNotIncluded},
		{"tx_count not the header's", func(p *proof.Proof) quant.Hash { p.TxCount = 6; return f.hash(3) }, proof.CodeNotIncluded},
		{"path cut short", func(p *proof.Proof) quant.Hash { p.Path = p.Path[1:]; return f.hash(3) }, proof.CodeNotIncluded},
		{"path too long", func(p *proof.Proof) quant.Hash {
			p.Path = append(p.Path, p.Path[0])
			return f.hash(3)
		}, proof.CodeNotIncluded},
		{"header of another quant", func(p *proof.Proof) quant.Hash {
			p.Header = f.headers[1].Encode()
			return f.hash(3)
		}, proof.CodeNotIncluded},
		{"a header left out", func(p *proof.Proof) quant.Hash {
			p.Headers = [][]byte{p.Headers[0], p.Headers[2]}
			return f.hash(3)
		}, proof.CodeBadLink},
		{"headers swapped", func(p *proof.Proof) quant.Hash {
			p.Headers[1], p.Headers[2] = p.Headers[2], p.Headers[1]
			return f.hash(3)
		}, proof.CodeBadLink},
		{"a header's height skips", func(p *proof.Proof) quant.Hash {
			h := *f.headers[1]
			h.Height++
			p.Headers = [][]byte{h.Encode()}
			return h.Hash()
		}, proof.CodeBadLink},
		{"a transaction of another chain", func(p *proof.Proof) quant.Hash {
			q, h := mixedProof()
			*p = *q
			return h
		}, proof.CodeWrongChain},
		{"tx does not decode", func(p *proof.Proof) quant.Hash { p.Tx = p.Tx[:10]; return f.hash(3) }, proof.CodeMalformed},
		{"header does not decode", func(p *proof.Proof) quant.Hash {
			p.Header = append(p.Header, 0)
			return f.hash(3)
		}, proof.CodeMalformed},
		{"a later header does not decode", func(p *proof.Proof) quant.Hash {
			p.Headers[1] = nil
			return f.hash(3)
		}, proof.CodeMalformed},
		{"tx data over the limit", func(p *proof.Proof) quant.Hash { p.Tx = big.Encode(); return f.hash(3) }, proof.CodeTooLarge},
		{"tx over the limit", func(p *proof.Proof) quant.Hash {
			p.Tx = make([]byte, quant.MaxTxSize+1)
			return f.hash(3)
		}, proof.CodeTooLarge},
		{"header over the limit", func(p *proof.Proof) quant.Hash {
			p.Header = make([]byte, quant.MaxHeaderSize+1)
			return f.hash(3)
		}, proof.CodeTooLarge},
		{"path over the limit", func(p *proof.Proof) quant.Hash {
			p.Path = make([]quant.Hash, proof.MaxPathLen+1)
			return f.hash(3)
		}, proof.CodeTooLarge},
		{"too many headers", func(p *proof.Proof) quant.Hash {
			p.Headers = make([][]byte, proof.MaxHeaders+1)
			return f.hash(3)
		}, proof.CodeTooLarge},
		{"a header over the limit", func(p *proof.Proof) quant.Hash {
			p.Headers[0] = make([]byte, quant.MaxHeaderSize+1)
			return f.hash(3)
		}, proof.CodeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := f.proof(t, 0, 2, 3)
			trust := tc.change(p)
			_, err := proof.Verify(p, trust)
			if got := proof.CodeOf(err); got != tc.want {
				t.Fatalf("Verify: %v, want code %q", err, tc.want)
			}
			if err != nil && !errors.Is(err, &proof.Error{Code: tc.want}) {
				t.Fatalf("errors.Is does not match %v by code %q", err, tc.want)
			}
		})
	}
}

// TestFlipAnyBit flips every bit of the transaction, the path, the
// holding header and each later header of a small proof in turn: Verify
// must refuse each, whichever quant of the proof is trusted.
func TestFlipAnyBit(t *testing.T) {
	f := newFixture(3, 1, 2)
	type part struct {
		name  string
		bytes func(p *proof.Proof) []byte
	}
	parts := []part{
		{"tx", func(p *proof.Proof) []byte { return p.Tx }},
		{"header", func(p *proof.Proof) []byte { return p.Header }},
		{"headers[0]", func(p *proof.Proof) []byte { return p.Headers[0] }},
		{"headers[1]", func(p *proof.Proof) []byte { return p.Headers[1] }},
	}
	for i := range f.proof(t, 0, 2, 2).Path {
		parts = append(parts, part{fmt.Sprintf("path[%d]", i), func(p *proof.Proof) []byte { return p.Path[i][:] }})
	}
	n := 0
	for _, pt := range parts {
		size := len(pt.bytes(f.proof(t, 0, 2, 2)))
		for pos := 0; pos < size; pos++ {
			for bit := 0; bit < 8; bit++ {
				p := f.proof(t, 0, 2, 2)
				pt.bytes(p)[pos] ^= 1 << bit
				if v, err := proof.Verify(p, f.hash(2)); err == nil {
					t.Fatalf("%s byte %d bit %d flipped: verified %+v", pt.name, pos, bit, v)
				}
				n++
			}
		}
	}
	// The index too: every other value of it.
	for i := range uint32(3) {
		if i == 2 {
			continue
		}
		p := f.proof(t, 0, 2, 2)
		p.Index = i
		if _, err := proof.Verify(p, f.hash(2)); proof.CodeOf(err) != proof.CodeNotIncluded {
			t.Fatalf("index %d: %v, want not_included", i, err)
		}
	}
	t.Logf("%d single-bit changes refused", n)
}

// TestJSON checks the JSON form against testdata/proof.json (refresh it
// with -update after a deliberate change) and the round trip.
func TestJSON(t *testing.T) {
	f := newFixture(3, 1, 2)
	p := f.proof(t, 0, 2, 2)
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "proof.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("JSON changed (run with -update if that is meant):\n%s\nwant\n%s", b, want)
	}
	back, err := proof.Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(p) {
		t.Fatalf("Decode(Marshal(p)) = %+v, want %+v", back, p)
	}
	if _, err := proof.Verify(back, f.hash(2)); err != nil {
		t.Fatal(err)
	}
	// An empty header chain is [] in JSON, and decodes.
	p0 := f.proof(t, 0, 0, 0)
	b0, _ := json.Marshal(p0)
	if !bytes.Contains(b0, []byte(`"headers":[]`)) {
		t.Fatalf("no header chain is not written as []: %s", b0)
	}
	if back, err := proof.Decode(b0); err != nil || !back.Equal(p0) {
		t.Fatalf("Decode: %v", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	f := newFixture(3, 1, 2)
	good, _ := json.Marshal(f.proof(t, 0, 2, 2))
	var m map[string]any
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   proof.Code
	}{
		{"version 2", func(m map[string]any) { m["version"] = 2 }, proof.CodeMalformed},
		{"no version", func(m map[string]any) { delete(m, "version") }, proof.CodeMalformed},
		{"tx not hex", func(m map[string]any) { m["tx"] = "zz" }, proof.CodeMalformed},
		{"a header not hex", func(m map[string]any) { m["headers"] = []any{"0"} }, proof.CodeMalformed},
		{"a path hash short", func(m map[string]any) { m["path"] = []any{"00"} }, proof.CodeMalformed},
		{"tx over the limit", func(m map[string]any) {
			m["tx"] = string(bytes.Repeat([]byte("00"), quant.MaxTxSize+1))
		}, proof.CodeTooLarge},
		{"header over the limit", func(m map[string]any) {
			m["header"] = string(bytes.Repeat([]byte("00"), quant.MaxHeaderSize+1))
		}, proof.CodeTooLarge},
		{"path over the limit", func(m map[string]any) {
			m["path"] = make([]any, proof.MaxPathLen+1)
			for i := range m["path"].([]any) {
				m["path"].([]any)[i] = quant.Hash{}.String()
			}
		}, proof.CodeTooLarge},
		{"too many headers", func(m map[string]any) { m["headers"] = make([]any, proof.MaxHeaders+1) }, proof.CodeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			tc.change(m)
			b, _ := json.Marshal(m)
			_, err := proof.Decode(b)
			if got := proof.CodeOf(err); got != tc.want {
				t.Fatalf("Decode: %v, want code %q", err, tc.want)
			}
		})
	}
	if _, err := proof.Decode(make([]byte, proof.MaxJSONSize+1)); proof.CodeOf(err) != proof.CodeTooLarge {
		t.Fatalf("Decode of an oversized input: %v, want too_large", err)
	}
}

// FuzzDecode decodes arbitrary bytes as a proof's JSON: no panic; what
// decodes encodes back to a proof that decodes the same; and a proof that
// verifies against the fixture's last quant proves a transaction the
// fixture's chain holds, where it holds it.
func FuzzDecode(f *testing.F) {
	fx := newFixture(3, 1, 2)
	for q := range fx.txs {
		for i := range fx.txs[q] {
			b, _ := json.Marshal(fx.proof(f, q, i, 2))
			f.Add(b)
		}
	}
	f.Add([]byte(`{"version":1,"tx":"","index":0,"tx_count":0,"path":[],"header":"","headers":[]}`))
	f.Add([]byte(`null`))
	trusted := fx.hash(2)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := proof.Decode(b)
		if err != nil {
			if proof.CodeOf(err) == "" {
				t.Fatalf("Decode: %v is not a *proof.Error", err)
			}
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := proof.Decode(again)
		if err != nil || !back.Equal(p) {
			t.Fatalf("re-decode: %v", err)
		}
		v, err := proof.Verify(p, trusted)
		if err != nil {
			if proof.CodeOf(err) == "" {
				t.Fatalf("Verify: %v is not a *proof.Error", err)
			}
			return
		}
		q := int(v.Height) - 7
		if q < 0 || q >= len(fx.txs) || int(v.Index) >= len(fx.txs[q]) || fx.txs[q][v.Index].ID() != v.ID {
			t.Fatalf("verified a transaction the chain does not hold there: %+v", v)
		}
	})
}
