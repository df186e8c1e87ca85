// Package client is a Go client for a QBC node's HTTP API: the seed's routes
// (/inject, /leap, /json-chain, /stats, /discover) and the versioned /v1
// resources. Every method takes a context first and returns the API's JSON
// shapes (package api).
//
// An answer with a non-2xx status is returned as a *StatusError that wraps
// the *api.Error the node sent, so callers branch on the error code:
//
//	var apiErr *api.Error
//	if errors.As(err, &apiErr) && apiErr.Err.Code == api.CodeNotFound { ... }
//
// A client addresses the node's default chain; OnChain gives one that
// addresses another chain the node follows, through its /v1/chains/{id}
// routes:
//
//	temps := client.New(addr, nil).OnChain(id)
//	temps.Inject(ctx, json.RawMessage(`{"temp":21.5}`))
//
// Every response body is read through a size limit, so a broken or hostile
// server cannot make the client allocate without bound.
package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Response size limits. A quant may encode to quant.MaxQuantSize bytes and
// its JSON (hex keys, base64 payloads, escaping) to a few times that.
const (
	// MaxSmallResponse bounds answers that carry no quants or transactions
	// in bulk (stats, submissions, errors, peers, the chain's rules).
	MaxSmallResponse = 4 << 20
	// MaxLargeResponse bounds an answer holding quants or a batch's results,
	// and each element of a /json-chain stream.
	MaxLargeResponse = 4 * quant.MaxQuantSize
	// maxErrorBody bounds how much of an error answer is read.
	maxErrorBody = 1 << 20
)

// Client talks to one node. It is safe for concurrent use.
type Client struct {
	base    string // scheme://host[:port][/path], no trailing slash
	baseErr error  // why the base URL given to New is unusable, if it is
	hc      *http.Client
	chain   quant.Hash // the chain addressed; zero: the node's default
	token   string     // the bearer token sent with every request; empty: none
}

// WithToken returns a client for the same node and chain that sends token
// as a bearer token (Authorization: Bearer TOKEN) with every request: the
// node's admin token, which creating, forking and leaving chains need on
// a node that has one. An empty token sends none.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.token = token
	return &cc
}

// OnChain returns a client for the chain id on the same node: every
// chain-scoped method (Inject, SubmitTx, SubmitBatch, LeapQuant, Stats,
// Chain, Quant, Quants, Tx, JSONChain, Fork) uses the
// /v1/chains/{id}/... routes. A zero id addresses the node's default
// chain, by the unscoped routes.
func (c *Client) OnChain(id quant.Hash) *Client {
	cc := *c
	cc.chain = id
	return &cc
}

// ChainID returns the chain the client addresses (zero: the node's
// default).
func (c *Client) ChainID() quant.Hash { return c.chain }

// v1 is the path of a chain-scoped /v1 route ("/txs") for the chain the
// client addresses.
func (c *Client) v1(path string) string {
	if c.chain.IsZero() {
		return "/v1" + path
	}
	return "/v1/chains/" + c.chain.String() + path
}

// seed is the path of one of the seed's routes ("/inject") for the chain
// the client addresses: the route itself on the default chain,
// /v1/chains/{id}/inject on another.
func (c *Client) seed(path string) string {
	if c.chain.IsZero() {
		return path
	}
	return "/v1/chains/" + c.chain.String() + path
}

// New returns a client for the node at baseURL: a URL
// ("http://127.0.0.1:5000") or a bare HOST:PORT ("127.0.0.1:5000", taken
// as http). A nil httpClient means http.DefaultClient. A baseURL that
// BaseURL refuses makes every call return that error.
func New(baseURL string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	base, err := BaseURL(baseURL)
	return &Client{base: base, baseErr: err, hc: httpClient}
}

// BaseURL normalizes a node's address as New takes it: HOST:PORT gets
// http://, a bare PORT or :PORT means 127.0.0.1:PORT, a trailing slash
// goes. It refuses schemes other than
// http and https and URLs with a query or fragment.
func BaseURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("client: node address is empty")
	}
	if _, err := strconv.ParseUint(s, 10, 16); err == nil {
		s = "127.0.0.1:" + s // a bare port
	} else if strings.HasPrefix(s, ":") {
		s = "127.0.0.1" + s // :PORT
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("client: node address %q: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("client: node address %q: scheme must be http or https", s)
	case u.Host == "":
		return "", fmt.Errorf("client: node address %q: no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("client: node address %q: must not have a query or fragment", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// URL returns the node's base URL, as normalized by New.
func (c *Client) URL() string { return c.base }

// StatusError is a non-2xx answer. It wraps the *api.Error the node sent
// (or, when the body was not one, an *api.Error made from the status), so
// errors.As(err, &apiErr) works on what every method returns.
type StatusError struct {
	Method     string
	URL        string
	StatusCode int
	Err        *api.Error
	// fromNode: the node sent Err; false when it was made from the status
	// (an answer that was not the API's error shape, from a proxy say).
	fromNode bool
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, e.Err.Error())
}

// Unwrap returns the API error.
func (e *StatusError) Unwrap() error { return e.Err }

// Inject adds data (any JSON value) to the chain's transaction pool as an
// unsigned transaction, as the seed's POST /inject did (POST
// /v1/chains/{id}/inject on a chain client); the node stamps the chain,
// its time and a random nonce.
func (c *Client) Inject(ctx context.Context, data json.RawMessage) (api.Submitted, error) {
	var out api.Submitted
	// The body is built by hand: json.Marshal would escape <, > and & in
	// data, and the node stores the bytes it is given.
	var body bytes.Buffer
	body.WriteString(`{"data":`)
	if err := json.Compact(&body, data); err != nil {
		return out, fmt.Errorf("client: inject: data is not valid JSON: %w", err)
	}
	body.WriteString(`}`)
	err := c.do(ctx, http.MethodPost, c.seed("/inject"), "application/json", body.Bytes(), MaxSmallResponse, &out)
	return out, err
}

// SubmitTx sends one transaction (signed or not) to POST /v1/txs (or the
// chain's /v1/chains/{id}/txs) in its
// canonical encoding, so the node sees exactly the bytes that were signed.
func (c *Client) SubmitTx(ctx context.Context, tx *quant.Tx) (api.Submitted, error) {
	var out api.Submitted
	err := c.do(ctx, http.MethodPost, c.v1("/txs"), "application/octet-stream", tx.Encode(), MaxSmallResponse, &out)
	return out, err
}

// SubmitBatch sends transactions in one request. Each goes as its canonical
// encoding (api.Tx's raw field); the answer says, per transaction in order,
// its id or why it was refused. A refused transaction is not an error of
// the call.
func (c *Client) SubmitBatch(ctx context.Context, txs []*quant.Tx) (api.Batch, error) {
	var out api.Batch
	items := make([]api.Tx, len(txs))
	for i, tx := range txs {
		items[i] = api.Tx{Raw: hex.EncodeToString(tx.Encode())}
	}
	body, err := json.Marshal(items)
	if err != nil {
		return out, fmt.Errorf("client: batch: %w", err)
	}
	err = c.do(ctx, http.MethodPost, c.v1("/txs"), "application/json", body, MaxLargeResponse, &out)
	return out, err
}

// Leap asks the node to make a quant now from its default chain's pool
// (the seed's /leap) and returns it once committed, in the seed's shape. A
// chain client has no seed-shaped leap: use LeapQuant.
func (c *Client) Leap(ctx context.Context) (api.SeedQuant, error) {
	var out api.SeedQuant
	if !c.chain.IsZero() {
		return out, errors.New("client: Leap is the default chain's seed route; use LeapQuant on a chain")
	}
	err := c.do(ctx, http.MethodPost, "/leap", "", nil, MaxLargeResponse, &out)
	return out, err
}

// LeapQuant asks the node to make a quant now from the chain's pool (POST
// /v1/leap or /v1/chains/{id}/leap) and returns it once committed, with its
// transactions.
func (c *Client) LeapQuant(ctx context.Context) (api.Quant, error) {
	var out api.Quant
	err := c.do(ctx, http.MethodPost, c.v1("/leap"), "", nil, MaxLargeResponse, &out)
	return out, err
}

// Stats returns the chain stats of GET /stats (/v1/chains/{id}/stats on
// a chain client).
func (c *Client) Stats(ctx context.Context) (api.Stats, error) {
	var out api.Stats
	err := c.do(ctx, http.MethodGet, c.seed("/stats"), "", nil, MaxSmallResponse, &out)
	return out, err
}

// Chain returns the node's chain: its id, rules and stats.
func (c *Client) Chain(ctx context.Context) (api.Chain, error) {
	var out api.Chain
	err := c.do(ctx, http.MethodGet, c.v1("/chain"), "", nil, MaxSmallResponse, &out)
	return out, err
}

// Quant returns one quant with its transactions, by height ("12") or hash
// (64 hex characters).
func (c *Client) Quant(ctx context.Context, heightOrHash string) (api.Quant, error) {
	var out api.Quant
	if heightOrHash == "" {
		return out, errors.New("client: quant: height or hash is empty")
	}
	err := c.do(ctx, http.MethodGet, c.v1("/quants/"+url.PathEscape(heightOrHash)), "", nil, MaxLargeResponse, &out)
	return out, err
}

// Quants returns up to limit quant headers (without transactions) from
// height from; limit 0 leaves the count to the node.
func (c *Client) Quants(ctx context.Context, from uint64, limit int) ([]api.Quant, error) {
	var out struct {
		Quants []api.Quant `json:"quants"`
	}
	err := c.do(ctx, http.MethodGet, c.v1("/quants")+rangeQuery(from, limit), "", nil, MaxLargeResponse, &out)
	return out.Quants, err
}

// Tx returns a transaction's status: pending, or committed with where it
// sits and its inclusion proof. An unknown id is an *api.Error with code
// api.CodeNotFound.
func (c *Client) Tx(ctx context.Context, id quant.Hash) (api.TxStatus, error) {
	var out api.TxStatus
	err := c.do(ctx, http.MethodGet, c.v1("/txs/"+id.String()), "", nil, MaxSmallResponse+2*quant.MaxTxSize, &out)
	return out, err
}

// TxProof returns a transaction's status (GET /v1/txs/{id}?proof=full)
// with, once it is committed, the proof a client checks offline (Full),
// leading to the quant to, or to the tip if to is zero. The answer may
// carry up to proof.MaxHeaders headers; a node refuses more than its limit
// (api.MaxProofHeaders by default) with code api.CodeProofTooLong.
func (c *Client) TxProof(ctx context.Context, id, to quant.Hash) (api.TxStatus, error) {
	var out api.TxStatus
	err := c.do(ctx, http.MethodGet, c.v1("/txs/"+id.String())+fullProofQuery(to), "", nil, maxProofAnswer, &out)
	return out, err
}

// JSONChain streams GET /json-chain from height from (up to limit quants;
// limit 0 means to the tip) and calls fn with each quant in order, without
// holding the chain in memory. An error from fn stops the stream and is
// returned as is.
func (c *Client) JSONChain(ctx context.Context, from uint64, limit int, fn func(api.SeedQuant) error) error {
	path := c.seed("/json-chain")
	resp, err := c.send(ctx, http.MethodGet, path+rangeQuery(from, limit), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	where := "client: GET " + path
	// Each element may be up to MaxLargeResponse; the budget is renewed
	// before each one.
	body := &budgetReader{r: resp.Body}
	dec := json.NewDecoder(body)
	body.n = MaxLargeResponse
	if err := expectDelim(dec, '['); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	for dec.More() {
		body.n = MaxLargeResponse
		var q api.SeedQuant
		if err := dec.Decode(&q); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := fn(q); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, ']'); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Peers returns the nodes this node knows (GET /discover).
func (c *Client) Peers(ctx context.Context) ([]api.Peer, error) {
	var out struct {
		Peers []api.Peer `json:"peers"`
	}
	err := c.do(ctx, http.MethodGet, "/discover", "", nil, MaxSmallResponse, &out)
	return out.Peers, err
}

// Discover registers another node's address (HOST:PORT) with this node
// (POST /discover) and returns the peers it now knows.
func (c *Client) Discover(ctx context.Context, host string) ([]api.Peer, error) {
	var out struct {
		Peers []api.Peer `json:"peers"`
	}
	body, err := json.Marshal(map[string]string{"host": host})
	if err != nil {
		return nil, fmt.Errorf("client: discover: %w", err)
	}
	err = c.do(ctx, http.MethodPost, "/discover", "application/json", body, MaxSmallResponse, &out)
	return out.Peers, err
}

// Health returns nil if the node answers GET /healthz with a 2xx status.
func (c *Client) Health(ctx context.Context) error {
	var out struct {
		Status string `json:"status"`
	}
	return c.do(ctx, http.MethodGet, "/healthz", "", nil, MaxSmallResponse, &out)
}

// do sends a request and decodes a 2xx answer's JSON into out, reading at
// most limit bytes.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, limit int64, out any) error {
	resp, err := c.send(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("client: %s %s: reading answer: %w", method, path, err)
	}
	if int64(len(b)) > limit {
		return fmt.Errorf("client: %s %s: answer exceeds %d bytes", method, path, limit)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: %s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// send makes a request and returns the response if its status is 2xx;
// otherwise it reads the error body, closes it and returns a *StatusError.
func (c *Client) send(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u := c.base + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err) // *url.Error names method and URL
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	apiErr, fromNode := decodeError(resp)
	return nil, &StatusError{Method: method, URL: u, StatusCode: resp.StatusCode, Err: apiErr, fromNode: fromNode}
}

// decodeError reads an error answer: the API's error shape, or, from
// something that is not a QBC node (a proxy's HTML page), an error made
// from the status and the start of the body; fromNode says which.
func decodeError(resp *http.Response) (e *api.Error, fromNode bool) {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e = new(api.Error)
	if err := json.Unmarshal(b, e); err == nil && e.Err.Code != "" {
		return e, true
	}
	msg := strings.TrimSpace(string(b))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &api.Error{Err: api.ErrorBody{Code: statusCode(resp.StatusCode), Message: msg}}, false
}

// statusCode names an API error code for a status whose body carried none.
func statusCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return api.CodeNotFound
	case http.StatusMethodNotAllowed:
		return api.CodeMethodNotAllowed
	case http.StatusUnsupportedMediaType:
		return api.CodeUnsupportedMedia
	case http.StatusServiceUnavailable:
		return api.CodeUnavailable
	case http.StatusUnauthorized:
		return api.CodeUnauthorized
	case http.StatusForbidden:
		return string(quant.CodeNotAllowed)
	case http.StatusConflict:
		return string(quant.CodeDuplicate)
	case http.StatusTooManyRequests:
		return api.CodePoolFull
	case http.StatusBadRequest:
		return api.CodeInvalidRequest
	case http.StatusRequestEntityTooLarge:
		return string(quant.CodeTooLarge)
	}
	return api.CodeInternal
}

func rangeQuery(from uint64, limit int) string {
	v := url.Values{}
	if from > 0 {
		v.Set("from", strconv.FormatUint(from, 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// budgetReader reads from r until n bytes have gone, then fails: the
// streaming decoder's bound, renewed per element.
type budgetReader struct {
	r io.Reader
	n int64
}

var errBudget = errors.New("element exceeds the size limit")

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// Node returns who the node is (GET /v1/node): its id, public key,
// version, addresses and replicas.
func (c *Client) Node(ctx context.Context) (api.NodeInfo, error) {
	var out api.NodeInfo
	err := c.do(ctx, http.MethodGet, "/v1/node", "", nil, MaxSmallResponse, &out)
	return out, err
}

// Chains lists the chains the node follows, the default first.
func (c *Client) Chains(ctx context.Context) ([]api.Chain, error) {
	var out []api.Chain
	err := c.do(ctx, http.MethodGet, "/v1/chains", "", nil, MaxLargeResponse, &out)
	return out, err
}

// CreateChain creates a chain on the node from rules (a genesis file's
// JSON); the node follows it and offers it to its peers.
func (c *Client) CreateChain(ctx context.Context, rules []byte) (api.Chain, error) {
	var out api.Chain
	err := c.do(ctx, http.MethodPost, "/v1/chains", "application/json", rules, MaxSmallResponse, &out)
	return out, err
}

// Fork creates a chain sharing chain's history up to its quant at height,
// with rules (a genesis file's JSON) after it. A zero chain forks the
// chain the client addresses.
func (c *Client) Fork(ctx context.Context, chain quant.Hash, height uint64, rules []byte) (api.Chain, error) {
	var out api.Chain
	body, err := json.Marshal(api.Fork{Height: height, Rules: rules})
	if err != nil {
		return out, fmt.Errorf("client: fork: rules are not JSON: %w", err)
	}
	path := c.v1("/fork")
	if !chain.IsZero() {
		path = "/v1/chains/" + chain.String() + "/fork"
	}
	err = c.do(ctx, http.MethodPost, path, "application/json", body, MaxSmallResponse, &out)
	return out, err
}

// LeaveChain has the node stop following chain id and delete it (DELETE
// /v1/chains/{id}); a zero id leaves the chain the client addresses.
func (c *Client) LeaveChain(ctx context.Context, id quant.Hash) error {
	if id.IsZero() {
		id = c.chain
	}
	if id.IsZero() {
		return errors.New("client: leave chain: no chain named (the default chain cannot be left)")
	}
	resp, err := c.send(ctx, http.MethodDelete, "/v1/chains/"+id.String(), "", nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Get fetches a JSON document of the API at path ("/v1/chains/ID/stats")
// into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, "", nil, MaxLargeResponse, out)
}

// Record returns a record's latest version with its transaction and
// inclusion proof. An unwritten key is an *api.Error with code
// api.CodeNotFound.
func (c *Client) Record(ctx context.Context, key string) (api.Record, error) {
	var out api.Record
	err := c.do(ctx, http.MethodGet, c.v1("/records/"+url.PathEscape(key)), "", nil, MaxSmallResponse+2*quant.MaxTxSize, &out)
	return out, err
}

// RecordProof is Record with the proof a client checks offline
// (proof_full), leading to the quant to (zero: the tip).
func (c *Client) RecordProof(ctx context.Context, key string, to quant.Hash) (api.Record, error) {
	var out api.Record
	err := c.do(ctx, http.MethodGet, c.v1("/records/"+url.PathEscape(key))+fullProofQuery(to), "", nil, maxProofAnswer, &out)
	return out, err
}

// maxProofAnswer bounds an answer carrying an offline proof.
const maxProofAnswer = MaxSmallResponse + 2*quant.MaxTxSize + proof.MaxJSONSize

// fullProofQuery asks for the offline proof leading to the quant to (zero:
// the tip).
func fullProofQuery(to quant.Hash) string {
	if to.IsZero() {
		return "?proof=full"
	}
	return "?proof=full&to=" + to.String()
}

// History returns up to limit versions of a record, oldest first, after
// the cursor after ("": from the first; a page's Next otherwise); limit 0
// leaves the count to the node.
func (c *Client) History(ctx context.Context, key, after string, limit int) (api.History, error) {
	var out api.History
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := c.v1("/records/" + url.PathEscape(key) + "/history")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	err := c.do(ctx, http.MethodGet, path, "", nil, MaxLargeResponse, &out)
	return out, err
}

// Keys returns up to limit record keys that start with prefix, after after
// ("": from the first); limit 0 leaves the count to the node.
func (c *Client) Keys(ctx context.Context, prefix, after string, limit int) (api.Keys, error) {
	var out api.Keys
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := c.v1("/records")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	err := c.do(ctx, http.MethodGet, path, "", nil, MaxLargeResponse, &out)
	return out, err
}
