// Package ui is the node's console: a single-page web application
// (overview, chains, explorer, network, analytics, SQL, admin) served at
// /ui/ from files embedded in the binary. The pages are plain HTML, CSS
// and JavaScript with no build step and nothing from elsewhere; they read
// and act through the node's HTTP API, as any client does, and check
// transactions' inclusion proofs themselves (SHA-256, in the browser).
//
// Every answer carries a strict Content-Security-Policy (scripts, styles
// and connections from the node itself only, no inline script, no eval,
// never framed), nosniff and no-referrer. The admin token never travels
// in a cookie: the pages keep the one the operator pastes in
// sessionStorage and send it as an Authorization bearer header, so a
// cross-site page cannot ride on it.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every answer under /ui/.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the console under /ui/. mode is "read" or "admin"; in
// read mode the page is told to hide the admin page and actions (the API
// still decides what each request may do).
func Handler(mode string) http.Handler {
	files, _ := fs.Sub(static, "static")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/ui")
		name = strings.TrimPrefix(name, "/")
		switch name {
		case "":
			name = "index.html"
		case "mode.json":
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			w.Write([]byte(`{"mode":"` + mode + `"}`))
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		switch path.Ext(name) {
		case ".html":
			h.Set("Content-Type", "text/html; charset=utf-8")
		case ".js":
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		case ".css":
			h.Set("Content-Type", "text/css; charset=utf-8")
		case ".svg":
			h.Set("Content-Type", "image/svg+xml")
		default:
			h.Set("Content-Type", http.DetectContentType(b))
		}
		h.Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(b)
	})
}
