package encrypt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseRecipient feeds the recipient parser arbitrary values (not
// file names: ParseRecipients would open them): no panic, and an error
// quotes nothing of what may be a secret.
func FuzzParseRecipient(f *testing.F) {
	for _, s := range []string{
		strings.Repeat("ab", 32), strings.Repeat("00", 32), "age1", "ssh-ed25519 AAAA", "{",
		"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
		`{"private":"` + strings.Repeat("01", 32) + `"}`, "AGE-SECRET-KEY-1" + strings.Repeat("Q", 58),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := parseRecipient(s)
		if err == nil {
			return
		}
		// What may be a secret (a key file's JSON, an age identity) is
		// not quoted at all.
		if (strings.HasPrefix(s, "{") || strings.HasPrefix(strings.ToUpper(s), "AGE-SECRET-KEY-")) && len(s) > 20 && strings.Contains(err.Error(), s[len(s)-8:]) {
			t.Fatalf("the error quotes what may be a secret: %v", err)
		}
	})
}

// FuzzLoadIdentity feeds LoadIdentity arbitrary files: no panic, and an
// error never quotes the file (it may hold a private key).
func FuzzLoadIdentity(f *testing.F) {
	f.Add([]byte(`{"public":"","private":"` + strings.Repeat("01", 32) + `"}`))
	f.Add([]byte("AGE-SECRET-KEY-1QQQQ\n"))
	f.Add([]byte(strings.Repeat("ab", 32)))
	path := filepath.Join(f.TempDir(), "id")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadIdentity(path)
		if err != nil && len(b) >= 16 && strings.Contains(err.Error(), string(b)) {
			t.Fatalf("the error quotes the file: %v", err)
		}
	})
}
