package store

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// FuzzDecodeVersion checks that decodeVersion refuses what it cannot read
// without panicking, and that what it accepts re-encodes to the input.
func FuzzDecodeVersion(f *testing.F) {
	owner := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	h := quant.HashLock([]byte("x"))
	f.Add(encodeVersion(&chain.Version{Key: "k", Height: 3, Index: 1, Time: 5}))
	f.Add(encodeVersion(&chain.Version{Key: "k", Height: 3, Signer: owner,
		Lock: &quant.Lock{Owners: [][]byte{owner}, Threshold: 1, Hash: &h, AppendOnly: true}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeVersion("k", b)
		if err != nil {
			return
		}
		if again := encodeVersion(&v); !bytes.Equal(again, b) {
			t.Fatalf("accepted version does not round-trip:\n in %x\nout %x", b, again)
		}
	})
}
