package httpapi

// rawOnly reports whether body is a JSON object whose one member is "raw",
// a non-empty string of hex digits, and returns those digits: the single
// submission that qbc bench and the client send ({"raw":"…"}), decoded
// here without reflection. Any other body, valid or not, returns false and
// goes to the JSON decoder, which gives the same transaction for every body
// this accepts (FuzzRawOnly checks that).
func rawOnly(body []byte) ([]byte, bool) {
	i := skipSpace(body, 0)
	if !hasAt(body, i, `{`) {
		return nil, false
	}
	i = skipSpace(body, i+1)
	if !hasAt(body, i, `"raw"`) {
		return nil, false
	}
	i = skipSpace(body, i+5)
	if !hasAt(body, i, `:`) {
		return nil, false
	}
	i = skipSpace(body, i+1)
	if !hasAt(body, i, `"`) {
		return nil, false
	}
	start := i + 1
	end := start
	for end < len(body) && hexDigit[body[end]] {
		end++
	}
	if end == start || !hasAt(body, end, `"`) {
		return nil, false
	}
	i = skipSpace(body, end+1)
	if !hasAt(body, i, `}`) || skipSpace(body, i+1) != len(body) {
		return nil, false
	}
	return body[start:end], true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func hasAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// hexDigit marks the bytes that are hex digits.
var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()
