package store

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestRecordRoundTrip(t *testing.T) {
	bang := testBang(t, 1)
	q := newBuilder(bang.Hash(), 1).child(&bang.Header, bang.Hash(), 2)
	for _, tt := range []struct {
		q    *quant.Quant
		work *big.Int
	}{
		{bang, big.NewInt(0)},
		{q, new(big.Int).Lsh(big.NewInt(1), 200)},
	} {
		rec, err := decodeRecord(encodeRecord(tt.q, chain.Meta{Height: tt.q.Header.Height, Work: tt.work}))
		if err != nil {
			t.Fatal(err)
		}
		if rec.header.Hash() != tt.q.Hash() || rec.work.Cmp(tt.work) != 0 || !bytes.Equal(rec.rules, tt.q.Rules) {
			t.Fatalf("record of quant %d does not round-trip", tt.q.Header.Height)
		}
	}
}

// FuzzDecodeRecord checks that decodeRecord refuses what it cannot read
// without panicking, and that what it accepts re-encodes to itself.
func FuzzDecodeRecord(f *testing.F) {
	bang := testBang(f, 1)
	q := newBuilder(bang.Hash(), 1).child(&bang.Header, bang.Hash(), 1)
	f.Add(encodeRecord(bang, chain.Meta{Work: big.NewInt(1)}))
	f.Add(encodeRecord(q, chain.Meta{Height: 1, Work: big.NewInt(300)}))
	f.Add([]byte{recordVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeRecord(b)
		if err != nil {
			return
		}
		qq := &quant.Quant{Header: *rec.header, Rules: rec.rules}
		again := encodeRecord(qq, rec.meta())
		if rec2, err := decodeRecord(again); err != nil || rec2.header.Hash() != rec.header.Hash() || rec2.work.Cmp(rec.work) != 0 {
			t.Fatalf("accepted record does not round-trip: %v", err)
		}
	})
}

// FuzzDecodeLocation checks that decodeLocation never panics and that what
// it accepts re-encodes to the same location.
func FuzzDecodeLocation(f *testing.F) {
	f.Add(encodeLocation(chain.Location{Height: 1 << 40, Index: 49_999}))
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		loc, err := decodeLocation(b)
		if err != nil {
			return
		}
		if again, err := decodeLocation(encodeLocation(loc)); err != nil || again != loc {
			t.Fatalf("location %+v does not round-trip: %v", loc, err)
		}
	})
}
