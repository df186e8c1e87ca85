package node

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRoutes: the node's handler sends the peers' and the console's paths
// to them and every other path to the API, cleaning and redirecting paths
// as one mux would, whichever way a request takes through it.
func TestRoutes(t *testing.T) {
	say := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) })
	}
	api := http.NewServeMux()
	api.Handle("GET /v1/stats", say("api stats"))
	api.Handle("POST /inject", say("api inject"))
	api.Handle("GET /{$}", say("api index"))
	api.Handle("/", say("api unmatched"))
	withUI := routes(say("peers"), say("console"), api)
	noUI := routes(say("peers"), nil, api)
	for _, c := range []struct {
		h              http.Handler
		method, path   string
		status         int
		body, location string
	}{
		{withUI, "GET", "/v1/stats", 200, "api stats", ""},
		{withUI, "POST", "/inject", 200, "api inject", ""},
		{withUI, "GET", "/", 200, "api index", ""},
		{withUI, "GET", "/nowhere", 200, "api unmatched", ""},
		{withUI, "POST", "/p2p/abc", 200, "peers", ""},
		{withUI, "GET", "/p2p", 0, "", "/p2p/"},
		{withUI, "GET", "/p2pish", 200, "api unmatched", ""},
		{withUI, "GET", "/ui/app.js", 200, "console", ""},
		{withUI, "GET", "/ui", http.StatusFound, "", "/ui/"},
		{withUI, "POST", "/ui/", 200, "api unmatched", ""},
		{noUI, "GET", "/ui/", 200, "api unmatched", ""},
		// Unclean paths are redirected to their clean form, whichever
		// handler the clean form belongs to.
		{withUI, "GET", "/v1/../p2p/abc", 0, "", "/p2p/abc"},
		{withUI, "GET", "/p2p/../v1/stats", 0, "", "/v1/stats"},
		{withUI, "GET", "//v1/stats", 0, "", "/v1/stats"},
	} {
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		switch {
		case c.status == 0 && (w.Code < 300 || w.Code > 399):
			t.Errorf("%s %s: status %d, want a redirect", c.method, c.path, w.Code)
		case c.status != 0 && w.Code != c.status:
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, w.Code, c.status)
		}
		if c.body != "" && w.Body.String() != c.body {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, w.Body.String(), c.body)
		}
		if got := w.Header().Get("Location"); got != c.location {
			t.Errorf("%s %s: Location %q, want %q", c.method, c.path, got, c.location)
		}
	}
}
