package envelope

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on a JSON pointer.
const (
	// MaxPointerLen bounds a pointer's length in bytes.
	MaxPointerLen = 1024
	// MaxPointerTokens bounds a pointer's reference tokens (its depth).
	MaxPointerTokens = 32
)

// ErrPointer is wrapped by the errors of ParsePointer.
var ErrPointer = errors.New("envelope: bad JSON pointer")

// Pointer is a parsed JSON pointer: its reference tokens, unescaped. The
// empty pointer (no tokens) names the whole document.
type Pointer []string

// ParsePointer parses an RFC 6901 JSON pointer ("/patient/name",
// "/items/0/sku", "/a~1b" for the member "a/b"). It refuses pointers longer
// than MaxPointerLen bytes or deeper than MaxPointerTokens, invalid UTF-8,
// and "~" not followed by 0 or 1.
func ParsePointer(s string) (Pointer, error) {
	switch {
	case len(s) > MaxPointerLen:
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrPointer, MaxPointerLen)
	case !utf8.ValidString(s):
		return nil, fmt.Errorf("%w: not UTF-8", ErrPointer)
	case s == "":
		return Pointer{}, nil
	case s[0] != '/':
		return nil, fmt.Errorf("%w: %q does not start with /", ErrPointer, s)
	}
	raw := strings.Split(s[1:], "/")
	if len(raw) > MaxPointerTokens {
		return nil, fmt.Errorf("%w: %q is deeper than %d", ErrPointer, s, MaxPointerTokens)
	}
	p := make(Pointer, len(raw))
	for i, t := range raw {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%w: %q has ~ not followed by 0 or 1", ErrPointer, s)
			}
		}
		p[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return p, nil
}

// ParseFieldPointers parses the pointers of fields to encrypt: at most max
// of them, none empty (the whole document is not a field), no two equal,
// none inside another (a field within an encrypted field is encrypted with
// it).
func ParseFieldPointers(ss []string, max int) ([]Pointer, error) {
	if len(ss) > max {
		return nil, fmt.Errorf("%w: %d pointers, at most %d", ErrPointer, len(ss), max)
	}
	ps := make([]Pointer, len(ss))
	for i, s := range ss {
		p, err := ParsePointer(s)
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			return nil, fmt.Errorf("%w: the empty pointer names the whole document, not a field", ErrPointer)
		}
		for j := range i {
			if ps[j].within(p) || p.within(ps[j]) {
				return nil, fmt.Errorf("%w: %q and %q overlap", ErrPointer, ss[j], s)
			}
		}
		ps[i] = p
	}
	return ps, nil
}

// within reports whether p equals q or names a field inside it.
func (p Pointer) within(q Pointer) bool {
	if len(p) < len(q) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// String returns p in its escaped form.
func (p Pointer) String() string {
	var b strings.Builder
	for _, t := range p {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// index returns the array index token t names in an array of n elements,
// or false: a decimal without leading zeros ("-", past the end, is not an
// element).
func index(t string, n int) (int, bool) {
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(t)
	if err != nil || i >= n {
		return 0, false
	}
	return i, true
}
