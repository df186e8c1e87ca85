package envelope

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParsePointer(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Pointer
	}{
		{"", Pointer{}},
		{"/", Pointer{""}},
		{"/a/b", Pointer{"a", "b"}},
		{"/a~1b/~0c/0", Pointer{"a/b", "~c", "0"}},
		{"/~01", Pointer{"~1"}},
	} {
		got, err := ParsePointer(c.in)
		if err != nil || !slices.Equal(got, c.want) || got.String() != c.in {
			t.Errorf("%q: %q, %v", c.in, got, err)
		}
	}
	for _, in := range []string{"a", "/a~", "/a~2", "/\xff", "/" + strings.Repeat("a/", MaxPointerTokens), "/" + strings.Repeat("a", MaxPointerLen)} {
		if _, err := ParsePointer(in); !errors.Is(err, ErrPointer) {
			t.Errorf("%.40q: %v, want ErrPointer", in, err)
		}
	}
}

func TestParseFieldPointers(t *testing.T) {
	if _, err := ParseFieldPointers([]string{"/a/b", "/a/c", "/b"}, 3); err != nil {
		t.Fatal(err)
	}
	for _, ss := range [][]string{{""}, {"/a", "/a"}, {"/a", "/a/b"}, {"/a/b", "/a"}, {"/a", "/b", "/c", "/d"}, {"x"}} {
		if _, err := ParseFieldPointers(ss, 3); !errors.Is(err, ErrPointer) {
			t.Errorf("%q: %v, want ErrPointer", ss, err)
		}
	}
}

func TestGetAndStrip(t *testing.T) {
	doc := []byte(`{"a":{"b":[1,{"c":"x"}]},"d~/":2,"e":null}`)
	v, err := DecodeDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	for ptr, want := range map[string]string{"": string(doc), "/a/b/1/c": `"x"`, "/d~0~1": `2`, "/e": `null`, "/a/b/0": `1`} {
		p, _ := ParsePointer(ptr)
		got, ok := Get(v, p)
		b, _ := EncodeDocument(got)
		if !ok || string(b) != want {
			t.Errorf("%q: %s %v, want %s", ptr, b, ok, want)
		}
	}
	for _, ptr := range []string{"/x", "/a/b/2", "/a/b/01", "/a/b/-", "/a/b/1/c/d", "/e/f"} {
		p, _ := ParsePointer(ptr)
		if _, ok := Get(v, p); ok {
			t.Errorf("%q found", ptr)
		}
	}
	ps, _ := ParseFieldPointers([]string{"/a/b/1", "/d~0~1", "/missing"}, 8)
	out, err := Strip(doc, ps)
	if err != nil || string(out) != `{"a":{"b":[1,null]},"e":null}` {
		t.Fatalf("strip: %s, %v", out, err)
	}
}

func TestDecodeDocumentBounds(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	inString := `"` + strings.Repeat("[", 2*MaxDepth) + `"`
	for _, c := range []struct {
		in string
		ok bool
	}{
		{deep, false}, {ok, true}, {inString, true}, {`{"a":1} x`, false}, {`{"a":1}{}`, false}, {`{`, false},
		{`"` + strings.Repeat("a", MaxDocSize) + `"`, false},
		{`{"a":1,"a":2}`, false}, {`{"a":{"b":1,"\u0062":2}}`, false}, {`[{"a":1},{"a":2}]`, true}, {`{}`, true}, {`[]`, true},
	} {
		_, err := DecodeDocument([]byte(c.in))
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrDocument)) {
			t.Errorf("%.30q: %v, want ok %v", c.in, err, c.ok)
		}
	}
	v, err := DecodeDocument([]byte(`{"n":1.50e3,"s":"<&>"}`))
	b, _ := EncodeDocument(v)
	if err != nil || string(b) != `{"n":1.50e3,"s":"<&>"}` {
		t.Fatalf("numbers or escapes changed: %s, %v", b, err)
	}
}

// sampleAge is a well-formed age file header with one stanza whose body
// fills a whole line (so an empty last line follows), then a payload.
func sampleAge() []byte {
	var b bytes.Buffer
	b.WriteString("age-encryption.org/v1\n")
	b.WriteString("-> X25519 " + strings.Repeat("A", 43) + "\n")
	b.WriteString(strings.Repeat("B", 43) + "\n")
	b.WriteString("-> ssh-ed25519 Abc123 " + strings.Repeat("C", 43) + "\n")
	b.WriteString(strings.Repeat("D", 64) + "\n\n")
	b.WriteString("--- " + strings.Repeat("E", 43) + "\n")
	b.Write(make([]byte, 32))
	return b.Bytes()
}

func TestParseAgeHeader(t *testing.T) {
	good := sampleAge()
	if !IsAge(good) {
		n, err := ParseAgeHeader(good)
		t.Fatalf("sample refused: %d, %v", n, err)
	}
	if IsAge(good[:len(good)-1]) {
		t.Error("short payload accepted")
	}
	mutate := func(old, new string) []byte { return bytes.Replace(bytes.Clone(good), []byte(old), []byte(new), 1) }
	for name, b := range map[string][]byte{
		"no intro":       good[1:],
		"armored":        []byte("-----BEGIN AGE ENCRYPTED FILE-----\n"),
		"no stanza":      []byte("age-encryption.org/v1\n--- " + strings.Repeat("E", 43) + "\n" + string(make([]byte, 32))),
		"empty args":     mutate("-> X25519 "+strings.Repeat("A", 43), "-> "),
		"double space":   mutate("-> X25519 ", "-> X25519  "),
		"body not b64":   mutate(strings.Repeat("B", 43), strings.Repeat("B", 42)+"*"),
		"body too long":  mutate(strings.Repeat("D", 64), strings.Repeat("D", 65)),
		"short mac":      mutate("--- "+strings.Repeat("E", 43), "--- "+strings.Repeat("E", 42)),
		"no mac line":    []byte("age-encryption.org/v1\n-> X25519 a\nAAAA\n"),
		"non-ascii args": mutate("Abc123", "Abc\x80"),
	} {
		if IsAge(b) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParsePointer(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b", "/a~1b/~0c/0", "/~", "a", "/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePointer(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("%q parses to %q, which prints %q", s, []string(p), p.String())
		}
		if len(p) > MaxPointerTokens {
			t.Fatalf("%q: %d tokens", s, len(p))
		}
	})
}

func FuzzParseAgeHeader(f *testing.F) {
	f.Add(sampleAge())
	f.Add([]byte("age-encryption.org/v1\n-> a\n\n--- " + strings.Repeat("A", 43) + "\n"))
	f.Add([]byte("age-encryption.org/v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseAgeHeader(b)
		if err != nil {
			return
		}
		if n <= len(ageIntro) || n > len(b) || b[n-1] != '\n' {
			t.Fatalf("header length %d of %d bytes", n, len(b))
		}
	})
}

func FuzzDecodeDocument(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c"}]}`, `1.5e3`, `"\u003c"`, `[[[[]]]]`, `{"a":1}x`, `"age:AAAA"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeDocument(b)
		if err != nil {
			return
		}
		out, err := EncodeDocument(v)
		if err != nil {
			t.Fatalf("decoded %q does not encode: %v", b, err)
		}
		v2, err := DecodeDocument(out)
		if err != nil {
			t.Fatalf("re-encoding %q does not decode: %v", out, err)
		}
		out2, _ := EncodeDocument(v2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable: %q then %q", out, out2)
		}
	})
}

func FuzzCheckFields(f *testing.F) {
	f.Add([]byte(`{"a":{"b":"`+Field(sampleAge())+`"}}`), "/a/b")
	f.Add([]byte(`{"a":{"b":"plain"}}`), "/a/b")
	f.Add([]byte(`[1,2,3]`), "/1")
	f.Fuzz(func(t *testing.T, doc []byte, ptr string) {
		ps, err := ParseFieldPointers([]string{ptr}, 1)
		if err != nil {
			return
		}
		if err := CheckFields(doc, ps); err != nil {
			return
		}
		// What passes has the field encrypted or absent, and stripping
		// it leaves a document without it.
		v, _ := DecodeDocument(doc)
		if f, ok := Get(v, ps[0]); ok {
			if _, err := ParseField(f); err != nil {
				t.Fatalf("passed with a plain field: %v", err)
			}
		}
		out, err := Strip(doc, ps)
		if err != nil {
			t.Fatalf("strip after check: %v", err)
		}
		sv, err := DecodeDocument(out)
		if err != nil {
			t.Fatalf("stripped document does not decode: %v", err)
		}
		if f, ok := Get(sv, ps[0]); ok && f != nil {
			t.Fatalf("field %s still there after strip: %v", ptr, f)
		}
	})
}
