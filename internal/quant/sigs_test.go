package quant

import (
	"crypto/ed25519"
	"fmt"
	"runtime"
	"testing"
)

func signedTxs(n int) []*Tx {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	txs := make([]*Tx, n)
	for i := range txs {
		txs[i] = &Tx{Time: 1, Nonce: uint64(i), Kind: DataJSON, Data: []byte(fmt.Sprintf(`{"i":%d,"pad":"%0180d"}`, i, 0))}
		txs[i].Sign(key)
	}
	return txs
}

func TestCheckTxSignatures(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 64} {
		txs := signedTxs(n)
		if i, err := CheckTxSignatures(txs, nil); i != -1 || err != nil {
			t.Fatalf("n=%d good batch: %d %v", n, i, err)
		}
		if n == 0 {
			continue
		}
		bad := n / 2
		txs[bad].Data = []byte(`{"tampered":true}`)
		if i, err := CheckTxSignatures(txs, nil); i != bad || CodeOf(err) != CodeBadSignature {
			t.Fatalf("n=%d tampered tx %d: got %d %v", n, bad, i, err)
		}
		// Skipped transactions are not checked.
		if i, err := CheckTxSignatures(txs, func(i int) bool { return i == bad }); i != -1 || err != nil {
			t.Fatalf("n=%d skipping the tampered one: %d %v", n, i, err)
		}
	}
	// Unsigned transactions pass; a signature without a key does not.
	txs := append(signedTxs(10), &Tx{Kind: DataJSON, Data: []byte(`1`)})
	if i, err := CheckTxSignatures(txs, nil); i != -1 || err != nil {
		t.Fatalf("with an unsigned tx: %d %v", i, err)
	}
	txs[10].Sig = make([]byte, 64)
	if i, err := CheckTxSignatures(txs, nil); i != 10 || CodeOf(err) != CodeBadSignature {
		t.Fatalf("signature without key: %d %v", i, err)
	}
}

func BenchmarkVerifySingle(b *testing.B) {
	txs := signedTxs(64)
	for i := 0; b.Loop(); i++ {
		if err := CheckTxSignature(txs[i%64]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBatch64(b *testing.B) {
	txs := signedTxs(64)
	for b.Loop() {
		if i, err := CheckTxSignatures(txs, nil); err != nil {
			b.Fatal(i, err)
		}
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "sigs/s")
}

// TestCheckTxSignaturesParallel: spread over cores, the check finds the
// same (lowest) bad transaction as the serial one, and honours skip.
func TestCheckTxSignaturesParallel(t *testing.T) {
	txs := signedTxs(10*sigChunk + 17)
	if i, err := CheckTxSignaturesParallel(txs, nil, 4); i != -1 || err != nil {
		t.Fatalf("good quant: %d %v", i, err)
	}
	// Two bad ones in different chunks: the lower is reported.
	for _, bad := range []int{7*sigChunk + 5, sigChunk + 1} {
		txs[bad].Data = []byte(`{"tampered":true}`)
	}
	if i, err := CheckTxSignaturesParallel(txs, nil, 4); i != sigChunk+1 || CodeOf(err) != CodeBadSignature {
		t.Fatalf("tampered: got %d %v, want %d", i, err, sigChunk+1)
	}
	skip := func(i int) bool { return i == sigChunk+1 }
	if i, err := CheckTxSignaturesParallel(txs, skip, 4); i != 7*sigChunk+5 || err == nil {
		t.Fatalf("skipping the first tampered one: got %d %v", i, err)
	}
	if i, err := CheckTxSignaturesParallel(txs, nil, 1); i != sigChunk+1 || err == nil {
		t.Fatalf("one worker: got %d %v", i, err)
	}
}

func BenchmarkVerifyQuantParallel(b *testing.B) {
	txs := signedTxs(4096)
	for b.Loop() {
		if i, err := CheckTxSignaturesParallel(txs, nil, runtime.GOMAXPROCS(0)); err != nil {
			b.Fatal(i, err)
		}
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkVerifyBatchSizes shows why CheckTxSignaturesParallel verifies in
// batches of sigChunk: a batch costs more per signature as it grows.
func BenchmarkVerifyBatchSizes(b *testing.B) {
	for _, n := range []int{64, 256, 512, 4096} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			txs := signedTxs(n)
			for b.Loop() {
				if i, err := CheckTxSignatures(txs, nil); err != nil {
					b.Fatal(i, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "sigs/s")
		})
	}
}
