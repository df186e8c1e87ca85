package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHeaders(t *testing.T) {
	h := Handler("read")
	for _, tc := range []struct {
		path, ctype string
		status      int
	}{
		{"/ui/", "text/html", 200},
		{"/ui/app.js", "text/javascript", 200},
		{"/ui/app.css", "text/css", 200},
		{"/ui/mode.json", "application/json", 200},
		{"/ui/nope.js", "", 404},
		{"/ui/../go.mod", "", 404},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, w.Code, tc.status)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("%s: Content-Type %q", tc.path, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("Content-Security-Policy") != CSP || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", tc.path, w.Header())
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/ui/mode.json", nil))
	if w.Body.String() != `{"mode":"read"}` {
		t.Errorf("mode.json = %s", w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/ui/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
}

// TestNoInlineScript keeps the page within its CSP: no inline script, no
// inline style attributes, nothing loaded from elsewhere.
func TestNoInlineScript(t *testing.T) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{"<script>", "onclick=", "onload=", "style=", "http://", "https://", "javascript:"} {
		if strings.Contains(s, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	b, _ = static.ReadFile("static/app.js")
	js := strings.ReplaceAll(string(b), "'http://www.w3.org/2000/svg'", "") // the SVG namespace, not a fetch
	for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "document.write", "http://", "https://", "setAttribute('style'"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js contains %q", bad)
		}
	}
}
