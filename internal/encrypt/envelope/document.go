package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Bounds on a JSON document this package decodes.
const (
	// MaxDocSize bounds a document's size in bytes: twice the largest
	// payload a chain takes, so a client can decrypt any stored document
	// and encrypt one that grows by the encryption.
	MaxDocSize = 2 << 20
	// MaxDepth bounds the nesting of arrays and objects.
	MaxDepth = 64
)

// ErrDocument is wrapped by the errors of DecodeDocument.
var ErrDocument = errors.New("envelope: bad JSON document")

// DecodeDocument decodes a JSON document, numbers kept as json.Number so
// that they come back out as they went in. It checks the size and the
// nesting depth before decoding. It does not keep b.
func DecodeDocument(b []byte) (any, error) {
	if len(b) > MaxDocSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrDocument, len(b), MaxDocSize)
	}
	if d := depth(b); d > MaxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrDocument, MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDocument, err)
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) != 0 {
		return nil, fmt.Errorf("%w: trailing data", ErrDocument)
	}
	return v, nil
}

// decodeValue decodes the next value of dec, refusing an object that
// names a member twice: encoding/json keeps the last, other readers the
// first, so {"name":"Ada","name":"age:..."} would pass a check of the
// encrypted one while the plaintext is stored next to it.
func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("nested deeper than %d", MaxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	switch d {
	case '{':
		m := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("member %q appears twice", k)
			}
			if m[k], err = decodeValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token() // '}'
		return m, err
	case '[':
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token() // ']'
		return a, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// EncodeDocument encodes a document as compact JSON, without HTML escapes;
// object members come out sorted by key.
func EncodeDocument(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDocument, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// depth returns the deepest nesting of arrays and objects in b, scanning
// past strings; it is a bound, not a validation.
func depth(b []byte) int {
	d, max, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			d++
			if d > max {
				max = d
			}
		case c == ']' || c == '}':
			d--
		}
	}
	return max
}

// Get returns the value p names in doc, and whether there is one.
func Get(doc any, p Pointer) (any, bool) {
	v := doc
	for _, t := range p {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[t]; !ok {
				return nil, false
			}
		case []any:
			i, ok := index(t, len(c))
			if !ok {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// set replaces the value p names in doc with v, reporting whether there
// was one; the empty pointer is never set (its value is doc itself).
func set(doc any, p Pointer, v any) bool {
	if len(p) == 0 {
		return false
	}
	parent, ok := Get(doc, p[:len(p)-1])
	if !ok {
		return false
	}
	t := p[len(p)-1]
	switch c := parent.(type) {
	case map[string]any:
		if _, ok := c[t]; ok {
			c[t] = v
			return true
		}
	case []any:
		if i, ok := index(t, len(c)); ok {
			c[i] = v
			return true
		}
	}
	return false
}

// Set is set for package encrypt: it replaces the value p names in doc
// (decoded by DecodeDocument) with v, and reports whether there was one.
func Set(doc any, p Pointer, v any) bool { return set(doc, p, v) }

// remove takes the value p names out of doc: an object's member is
// deleted, an array's element becomes null (so that other pointers into
// the array keep their indexes).
func remove(doc any, p Pointer) {
	if len(p) == 0 {
		return
	}
	parent, ok := Get(doc, p[:len(p)-1])
	if !ok {
		return
	}
	t := p[len(p)-1]
	switch c := parent.(type) {
	case map[string]any:
		delete(c, t)
	case []any:
		if i, ok := index(t, len(c)); ok {
			c[i] = nil
		}
	}
}
