package httpapi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

func TestRawOnly(t *testing.T) {
	for _, c := range []struct {
		body string
		raw  string // "" when the decoder must take the body
	}{
		{`{"raw":"00ff"}`, "00ff"},
		{" {\n\t\"raw\" :  \"AbCd01\" }\r\n", "AbCd01"},
		{`{"raw":"0"}`, "0"}, // odd: DecodeRaw refuses it as the decoder's path does
		{`{"raw":""}`, ""},
		{`{"RAW":"00"}`, ""},
		{`{"raw":"00","kind":"json"}`, ""},
		{`{"raw":"0\u0030"}`, ""},
		{`{"raw":"00"}{}`, ""},
		{`{"raw":"00"`, ""},
		{`{"raw":"0g"}`, ""},
		{`{"raw":00}`, ""},
		{`["raw"]`, ""},
		{``, ""},
	} {
		raw, ok := rawOnly([]byte(c.body))
		if ok != (c.raw != "") || string(raw) != c.raw {
			t.Errorf("rawOnly(%q) = %q, %v; want %q", c.body, raw, ok, c.raw)
		}
	}
}

// FuzzRawOnly checks that every body the fast path takes decodes, with
// the strict JSON decoder, to a transaction with only that raw field.
func FuzzRawOnly(f *testing.F) {
	for _, s := range []string{`{"raw":"00ff"}`, ` { "raw" : "aB" } `, `{"raw":"0"}`, `{"raw":"00","x":1}`, `{"Raw":"00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raw, ok := rawOnly(body)
		if !ok {
			return
		}
		var tx api.Tx
		if err := strictUnmarshal(body, &tx); err != nil {
			t.Fatalf("rawOnly took %q, the decoder refuses it: %v", body, err)
		}
		if want := (api.Tx{Raw: string(raw)}); !reflect.DeepEqual(tx, want) {
			t.Fatalf("rawOnly(%q) = %q, the decoder gives %+v", body, raw, tx)
		}
	})
}

// TestWriteSubmitted: the answer to one submission is what writeJSON
// writes for it.
func TestWriteSubmitted(t *testing.T) {
	for _, status := range []string{"pending", "committed", `odd "one"`} {
		sub := api.Submitted{ID: quant.Hash{0xab, 1, 2}, Status: status}
		fast, slow := httptest.NewRecorder(), httptest.NewRecorder()
		writeSubmitted(fast, sub)
		writeJSON(slow, http.StatusCreated, sub)
		if fast.Code != slow.Code || fast.Body.String() != slow.Body.String() || !reflect.DeepEqual(fast.Header(), slow.Header()) {
			t.Errorf("%q: writeSubmitted %d %v %q, writeJSON %d %v %q", status,
				fast.Code, fast.Header(), fast.Body, slow.Code, slow.Header(), slow.Body)
		}
	}
}
