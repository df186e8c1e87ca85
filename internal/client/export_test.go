package client

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// FuzzReadLine: any stream splits into lines no longer than the limit,
// which put back together with newlines are the stream (or an error).
func FuzzReadLine(f *testing.F) {
	for _, s := range []string{"", "a\nb\n", "no newline", "\n\n", string(bytes.Repeat([]byte("x"), 100)) + "\n"} {
		f.Add([]byte(s), 16)
	}
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		if limit < 1 || limit > 1<<20 {
			return
		}
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		var got []byte
		for {
			line, err := readLine(br, limit)
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
			if len(line) > limit {
				t.Fatalf("a line of %d bytes over the limit %d", len(line), limit)
			}
			got = append(append(got, line...), '\n')
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("lines %q, want %q", got, in)
		}
	})
}
