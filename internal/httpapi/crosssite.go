package httpapi

import (
	"net/http"

	"github.com/qbc-chain/qbc/internal/api"
)

// stateChangingGets are the routes that change state although their
// method is safe: the seed's GET /leap mines a quant. (GET /discover only
// lists peers.)
var stateChangingGets = map[string]bool{
	"GET /leap": true,
}

// crossSite refuses a browser's request from another site that would
// change state (cross-site request forgery: a page the operator visits
// posting a form to /inject, /discover or /v1/chains on the node it can
// reach). It is net/http's CrossOriginProtection: a request whose
// Sec-Fetch-Site is cross-site or same-site, or whose Origin is not the
// request's own Host, is refused; a request without either header (curl,
// httpie, Go clients, peers) passes. That check guards only unsafe
// methods, so a state-changing GET route is checked as if it were a POST.
// It returns whether the request may go on, having answered 403
// cross_site when not.
func (s *Server) crossSite(w http.ResponseWriter, r *http.Request, pattern string) bool {
	probe := r
	if stateChangingGets[pattern] {
		probe = r.Clone(r.Context())
		probe.Method = http.MethodPost
	}
	if err := s.cop.Check(probe); err != nil {
		s.writeError(w, r, errorf(api.CodeCrossSite,
			"a cross-site browser request may not change this node's state (Origin or Sec-Fetch-Site names another site)"))
		return false
	}
	return true
}
