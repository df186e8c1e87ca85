package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/qbc-chain/qbc/internal/api"
)

// TestCrossSite: a browser page of another site cannot change a node's
// state (a form posted to /inject, a chain created, a peer added, a quant
// mined through GET /leap), while the seed's own clients (curl, httpie,
// other nodes: no Origin, no Sec-Fetch-Site) and a page of the node's own
// origin are served as before, and reads stay open to every site.
func TestCrossSite(t *testing.T) {
	tn := startNode(t, nil)
	form := "application/x-www-form-urlencoded"
	inject := []byte(url.Values{"data": {`{"k":1}`}}.Encode())
	rules := []byte(tempsRules)
	evil := "https://evil.example"
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      []byte
		header                    []string
		want                      int
	}{
		{"cross-site form to /inject", "POST", "/inject", form, inject, []string{"Sec-Fetch-Site", "cross-site", "Origin", evil}, 403},
		{"cross-site form to a chain's /inject", "POST", "/v1/chains/" + tn.chainID().String() + "/inject", form, inject, []string{"Sec-Fetch-Site", "cross-site", "Origin", evil}, 403},
		{"old browser's foreign Origin to /v1/chains", "POST", "/v1/chains", "text/plain", rules, []string{"Origin", evil}, 403},
		{"cross-site post to /v1/chains", "POST", "/v1/chains", "text/plain", rules, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site, other origin, to /discover", "POST", "/discover", form, []byte("host=127.0.0.1:1"), []string{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.example"}, 403},
		{"cross-site GET /leap", "GET", "/leap", "", nil, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"cross-site image GET /leap from an old browser", "GET", "/leap", "", nil, []string{"Origin", evil}, 403},
		{"cross-site read", "GET", "/v1/chains", "", nil, []string{"Sec-Fetch-Site", "cross-site", "Origin", evil}, 200},
		{"curl form to /inject", "POST", "/inject", form, inject, nil, 201},
		{"curl GET /leap", "GET", "/leap", "", nil, nil, 200},
		{"same-origin page to /inject", "POST", "/inject", form, []byte(url.Values{"data": {`{"k":2}`}}.Encode()), []string{"Sec-Fetch-Site", "same-origin", "Origin", tn.base}, 201},
		{"old browser's own Origin to /inject", "POST", "/inject", form, []byte(url.Values{"data": {`{"k":3}`}}.Encode()), []string{"Origin", tn.base}, 201},
		{"address bar GET /leap", "GET", "/leap", "", nil, []string{"Sec-Fetch-Site", "none"}, 200},
		{"curl creates a chain", "POST", "/v1/chains", "application/json", rules, nil, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn.t = t
			status, body := tn.do(tc.method, tc.path, tc.ctype, tc.body, tc.header...)
			if tc.want == 403 {
				tn.wantError(status, body, 403, api.CodeCrossSite)
				return
			}
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
		})
	}
}
