package quant

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// canonicalJSON returns the canonical form of a JSON payload: compact (no
// insignificant white space), with the escapes that JSON encoders add for
// HTML safety (\u003c \u003e \u0026, and \u2028 \u2029) written as the
// characters themselves. A payload that passes through an encoder that adds
// them (Go's json.Marshal does) therefore keeps its bytes, its id and its
// signature. Other escapes, key order and number spellings are kept as
// written.
func canonicalJSON(b []byte) ([]byte, error) {
	if !utf8.Valid(b) {
		return nil, Errorf(CodeBadData, "payload is not valid UTF-8")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, Errorf(CodeBadData, "payload is not valid JSON: %v", err)
	}
	c := buf.Bytes()
	if tooDeep, _ := jsonShape(c); tooDeep {
		return nil, Errorf(CodeBadData, "payload nests deeper than %d levels", MaxJSONDepth)
	}
	if !bytes.Contains(c, []byte(`\u`)) {
		return c, nil
	}
	out := make([]byte, 0, len(c))
	inString := false
	for i := 0; i < len(c); i++ {
		ch := c[i]
		switch {
		case ch == '"':
			inString = !inString
		case inString && ch == '\\':
			if r, ok := htmlEscape(c[i:]); ok {
				out = utf8.AppendRune(out, r)
				i += 5
				continue
			}
			out = append(out, ch, c[i+1]) // an escape pair, kept
			i++
			continue
		}
		out = append(out, ch)
	}
	return out, nil
}

// isCanonical reports whether canonicalJSON(b) would return b unchanged,
// without building the canonical form: b is valid UTF-8 and JSON, nests no
// deeper than MaxJSONDepth, and has neither whitespace between tokens nor
// an HTML-safety escape. A payload sent in its canonical form, the common
// case, is checked without an allocation.
func isCanonical(b []byte) bool {
	if !utf8.Valid(b) || !json.Valid(b) {
		return false
	}
	tooDeep, loose := jsonShape(b)
	return !tooDeep && !loose
}

// MaxJSONDepth bounds how deeply a JSON payload nests arrays and objects.
// A record nested thousands deep would pass a JSON parser here and then
// break (or exhaust the stack of) readers of the chain elsewhere.
const MaxJSONDepth = 64

// jsonShape walks valid JSON once, counting brackets outside strings, with
// no allocation: tooDeep if it nests deeper than MaxJSONDepth (the walk
// stops there), loose if it holds whitespace between tokens or an
// HTML-safety escape, which canonicalJSON would rewrite.
func jsonShape(b []byte) (tooDeep, loose bool) {
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		switch ch := b[i]; {
		case inString && ch == '\\':
			if _, ok := htmlEscape(b[i:]); ok {
				loose = true
			}
			i++
		case ch == '"':
			inString = !inString
		case inString:
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			loose = true
		case ch == '[' || ch == '{':
			if depth++; depth > MaxJSONDepth {
				return true, loose
			}
		case ch == ']' || ch == '}':
			depth--
		}
	}
	return false, loose
}

// htmlEscape reports whether b starts with one of the escapes encoders add
// for HTML safety, and which character it stands for.
func htmlEscape(b []byte) (rune, bool) {
	if len(b) < 6 || b[1] != 'u' {
		return 0, false
	}
	switch string(bytes.ToLower(b[2:6])) {
	case "003c":
		return '<', true
	case "003e":
		return '>', true
	case "0026":
		return '&', true
	case "2028":
		return '\u2028', true
	case "2029":
		return '\u2029', true
	}
	return 0, false
}
