package sqlproj

import (
	"fmt"
	"strings"
	"unicode"
)

// MaxQueryBytes bounds the text of a query.
const MaxQueryBytes = 64 << 10

// readOnlyVerbs are the first words a query may start with.
var readOnlyVerbs = []string{"SELECT", "WITH", "VALUES", "EXPLAIN", "TABLE"}

// oneStatement checks that q is one statement that starts as a read does
// (SELECT, WITH, VALUES, EXPLAIN, TABLE), and returns it without a
// trailing semicolon. It skips quoted strings and identifiers and
// comments, so a semicolon inside them does not count. It is a first
// line only: the read-only connection or transaction is what stops
// writes (a WITH may hold one).
func oneStatement(q string) (string, error) {
	if len(q) > MaxQueryBytes {
		return "", fmt.Errorf("%w: the query is over %d bytes", ErrRefused, MaxQueryBytes)
	}
	end := -1 // where the first statement ends
	i := 0
	for i < len(q) && end < 0 {
		switch c := q[i]; {
		case c == '\'' || c == '"' || c == '`':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				return "", fmt.Errorf("%w: unterminated quote", ErrRefused)
			}
			i += j + 2 // a doubled quote is two quoted runs side by side
		case c == '[':
			j := strings.IndexByte(q[i+1:], ']')
			if j < 0 {
				return "", fmt.Errorf("%w: unterminated [identifier]", ErrRefused)
			}
			i += j + 2
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				i = len(q)
			} else {
				i += j + 1
			}
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return "", fmt.Errorf("%w: unterminated comment", ErrRefused)
			}
			i += j + 4
		case c == '$':
			// A PostgreSQL dollar-quoted string: $tag$ ... $tag$.
			j := i + 1
			for j < len(q) && (q[j] == '_' || isAlnum(q[j])) {
				j++
			}
			if j < len(q) && q[j] == '$' && (j == i+1 || !isDigit(q[i+1])) {
				tag := q[i : j+1]
				k := strings.Index(q[j+1:], tag)
				if k < 0 {
					return "", fmt.Errorf("%w: unterminated %s string", ErrRefused, tag)
				}
				i = j + 1 + k + len(tag)
			} else {
				i = j
			}
		case c == ';':
			end = i
		default:
			i++
		}
	}
	stmt := q
	if end >= 0 {
		if rest := strings.TrimFunc(q[end:], func(r rune) bool { return r == ';' || unicode.IsSpace(r) }); rest != "" {
			return "", fmt.Errorf("%w: one statement only", ErrRefused)
		}
		stmt = q[:end]
	}
	stmt = strings.TrimSpace(stmt)
	verb := firstWord(stmt)
	for _, v := range readOnlyVerbs {
		if strings.EqualFold(verb, v) {
			return stmt, nil
		}
	}
	if verb == "" {
		return "", fmt.Errorf("%w: empty query", ErrRefused)
	}
	return "", fmt.Errorf("%w: only reads (SELECT, WITH, VALUES, EXPLAIN, TABLE) are served, not %s", ErrRefused, strings.ToUpper(verb))
}

// firstWord is the first word of s after comments, parentheses and space.
func firstWord(s string) string {
	for {
		s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '(' })
		switch {
		case strings.HasPrefix(s, "--"):
			j := strings.IndexByte(s, '\n')
			if j < 0 {
				return ""
			}
			s = s[j+1:]
		case strings.HasPrefix(s, "/*"):
			j := strings.Index(s[2:], "*/")
			if j < 0 {
				return ""
			}
			s = s[j+4:]
		default:
			j := 0
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j > 16 {
				j = 16
			}
			return s[:j]
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
