package api

import (
	"bytes"
	"testing"

	"errors"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestBatchRoundTrip(t *testing.T) {
	txs := []*quant.Tx{
		{Time: 1, Nonce: 1, Kind: quant.DataJSON, Data: []byte(`{"a":1}`)},
		{Time: 2, Nonce: 2, Kind: quant.DataBytes, Data: []byte{0, 1}},
	}
	b := EncodeBatch(txs)
	got, err := DecodeBatch(b, 10)
	if err != nil || len(got) != 2 || got[1].ID() != txs[1].ID() {
		t.Fatalf("DecodeBatch: %d txs, %v", len(got), err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		max  int
		code string // the rule code, or CodeInvalidRequest for ErrInvalid
	}{
		{"empty", nil, 10, CodeInvalidRequest},
		{"over max", b, 1, string(quant.CodeTooLarge)},
		{"truncated length", b[:2], 10, string(quant.CodeMalformed)},
		{"length past end", b[:len(b)-1], 10, string(quant.CodeMalformed)},
		{"bad tx", append([]byte{0, 0, 0, 1}, 9), 10, string(quant.CodeBadVersion)},
	} {
		_, err := DecodeBatch(tc.b, tc.max)
		code := string(quant.CodeOf(err))
		if errors.Is(err, ErrInvalid) {
			code = CodeInvalidRequest
		}
		if code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

// FuzzDecodeBatch: never panics; what decodes re-encodes to the input.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(EncodeBatch([]*quant.Tx{{Time: 1, Kind: quant.DataJSON, Data: []byte(`1`)}}))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		txs, err := DecodeBatch(b, 1000)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeBatch(txs), b) {
			t.Fatal("batch does not re-encode to its input")
		}
	})
}
