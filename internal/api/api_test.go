package api

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

func sampleTxs() []*quant.Tx {
	signed := &quant.Tx{ChainID: quant.Hash{1}, Time: 5, Nonce: 6, Kind: quant.DataJSON, Data: []byte(`{"a":"<b>"}`)}
	signed.Sign(ed25519.NewKeyFromSeed(make([]byte, 32)))
	return []*quant.Tx{
		signed,
		{ChainID: quant.Hash{2}, Time: 1, Nonce: 2, Kind: quant.DataBytes, Data: []byte{0, 1, 255}},
	}
}

func TestTxRoundTrip(t *testing.T) {
	for _, tx := range sampleTxs() {
		j := FromTx(tx)
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var back Tx
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got, err := back.ToTx()
		if err != nil {
			t.Fatalf("ToTx: %v", err)
		}
		if !bytes.Equal(got.Encode(), tx.Encode()) {
			t.Fatalf("round trip changed the transaction: %s", b)
		}
		// The raw form gives the same transaction.
		raw := Tx{Raw: hexOf(tx.Encode())}
		if got, err := raw.ToTx(); err != nil || got.ID() != tx.ID() {
			t.Fatalf("raw: %v", err)
		}
	}
	// A wrong id is refused.
	j := FromTx(sampleTxs()[0])
	j.ID = &quant.Hash{9}
	if _, err := j.ToTx(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong id: %v", err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// FuzzToTx: any JSON body either fails with a coded error (a rule's, or
// ErrInvalid) or gives a transaction whose JSON form converts back to the
// same transaction.
func FuzzToTx(f *testing.F) {
	for _, tx := range sampleTxs() {
		b, _ := json.Marshal(FromTx(tx))
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"bytes","data":"!!"}`))
	f.Add([]byte(`{"raw":"0102"}`))
	f.Add([]byte(`{"data":1,"key":"orders/1","lock":{"owners":["3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"],"threshold":1,"hash":"` +
		`e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","write_once":true},"reveal":"00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var j Tx
		if json.Unmarshal(b, &j) != nil {
			return
		}
		tx, err := j.ToTx()
		if err != nil {
			if quant.CodeOf(err) == "" && !errors.Is(err, ErrInvalid) {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		again, err := func() (*quant.Tx, error) { k := FromTx(tx); k.ID = nil; return k.ToTx() }()
		if err != nil || again.ID() != tx.ID() {
			t.Fatalf("JSON form does not convert back: %v", err)
		}
	})
}
