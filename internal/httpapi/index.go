package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// indexRoute serves GET /: what a person (or a browser) finds at a node's
// address instead of a 404, pointing to the API's description.
func (s *Server) indexRoute() {
	routes := documentedRoutes(openAPI)
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"name":    "qbc",
			"about":   "a QBC node's HTTP API; its OpenAPI description is at /v1/openapi.json",
			"openapi": "/v1/openapi.json",
			"chain":   s.cfg.Chains.Default().Chain.ID(),
			"routes":  routes,
		})
	})
}

// documentedRoutes lists "METHOD /path" for every operation of an OpenAPI
// document, sorted by path, so the index and the description cannot
// disagree.
func documentedRoutes(doc []byte) []string {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return []string{}
	}
	out := []string{}
	for path, ops := range d.Paths {
		for method := range ops {
			if m := strings.ToUpper(method); m == http.MethodGet || m == http.MethodPost {
				out = append(out, m+" "+path)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		_, pa, _ := strings.Cut(a, " ")
		_, pb, _ := strings.Cut(b, " ")
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}
