// Package api holds the JSON shapes of QBC's HTTP API and the conversions
// between them and the core types: what the server (httpapi) writes and
// clients (client, cmd/qbc) read, and the binary batch of POST /v1/txs
// (EncodeBatch, DecodeBatch). It knows nothing of HTTP itself.
package api

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Error is the one error shape of the API: {"error":{"code":..,"message":..}}.
type Error struct {
	Err ErrorBody `json:"error"`
}

// ErrorBody is the inside of Error.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error, so clients can return it.
func (e *Error) Error() string { return e.Err.Code + ": " + e.Err.Message }

// Codes beyond quant's rule codes.
const (
	CodeNotFound         = "not_found"
	CodePoolFull         = "pool_full"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
	CodeUnauthorized     = "unauthorized"
	CodeInvalidRequest   = "invalid_request" // the request is not well formed
	CodeNotSupported     = "not_supported"   // a fine request this node or chain does not serve
	CodeRequestTimeout   = "request_timeout" // the request body was not sent in time
	CodeCrossSite        = "cross_site"      // a browser request from another site that would change state
	CodeProofTooLong     = "proof_too_long"  // a proof's header chain would be over MaxProofHeaders
)

// ErrInvalid marks a request body that describes no transaction (ToTx, an
// empty batch); httpapi answers it 400 invalid_request.
var ErrInvalid = errors.New("api: invalid request")

// Data kinds as JSON writes them.
const (
	KindJSON  = "json"
	KindBytes = "bytes"
)

// Tx is a transaction in JSON. Data is the payload itself for kind "json"
// and a base64 string for kind "bytes"; keys and signatures are hex. Raw,
// when given on input, is the canonical encoding in hex and replaces every
// other field.
type Tx struct {
	ID     *quant.Hash     `json:"id,omitempty"`
	Chain  quant.Hash      `json:"chain"`
	Time   int64           `json:"time"`
	Nonce  uint64          `json:"nonce"`
	Kind   string          `json:"kind"`
	Data   json.RawMessage `json:"data"`
	PubKey string          `json:"pubkey,omitempty"`
	Sig    string          `json:"sig,omitempty"`
	// Key names the record the transaction writes; Lock, Reveal and
	// Cosigs are its lock, a hash lock's preimage (hex) and further
	// owners' signatures (docs/records.md).
	Key    string  `json:"key,omitempty"`
	Lock   *Lock   `json:"lock,omitempty"`
	Reveal string  `json:"reveal,omitempty"`
	Cosigs []Cosig `json:"cosigs,omitempty"`
	// ZK is a zero-knowledge proof the write carries (docs/zk.md).
	ZK  *ZK    `json:"zk,omitempty"`
	Raw string `json:"raw,omitempty"`
}

// Lock is a record lock in JSON (quant.Lock): owner keys and hash in hex.
type Lock struct {
	Owners          []string `json:"owners,omitempty"`
	Threshold       uint8    `json:"threshold,omitempty"`
	Hash            string   `json:"hash,omitempty"`
	NotBeforeHeight uint64   `json:"not_before_height,omitempty"`
	NotBeforeTime   int64    `json:"not_before_time,omitempty"`
	WriteOnce       bool     `json:"write_once,omitempty"`
	AppendOnly      bool     `json:"append_only,omitempty"`
	// Commitment is a secret lock's MiMC commitment (hex field element).
	Commitment string `json:"commitment,omitempty"`
}

// ZK is a transaction's zero-knowledge part in JSON (docs/zk.md): the
// circuit by name, the public inputs it uses (hex), the proof (hex).
type ZK struct {
	Circuit    string `json:"circuit"`
	Root       string `json:"root,omitempty"`
	Nullifier  string `json:"nullifier,omitempty"`
	Scope      string `json:"scope,omitempty"`
	Commitment string `json:"commitment,omitempty"`
	Prev       string `json:"prev,omitempty"`
	Min        uint64 `json:"min,omitempty"`
	Max        uint64 `json:"max,omitempty"`
	Proof      string `json:"proof"`
}

var zkCircuits = map[uint8]string{quant.ZKMembership: "membership", quant.ZKPreimage: "preimage", quant.ZKRange: "range"}

// FromZK converts a zk part to JSON; nil stays nil.
func FromZK(z *quant.ZK) *ZK {
	if z == nil {
		return nil
	}
	j := &ZK{Circuit: zkCircuits[z.Circuit], Proof: hex.EncodeToString(z.Proof)}
	switch z.Circuit {
	case quant.ZKMembership:
		j.Root, j.Nullifier, j.Scope = z.Root.String(), z.Nullifier.String(), z.Scope
	case quant.ZKPreimage:
		j.Commitment, j.Prev = z.Commitment.String(), z.Prev.String()
	case quant.ZKRange:
		j.Commitment, j.Min, j.Max = z.Commitment.String(), z.Min, z.Max
	}
	return j
}

// ToZK converts JSON to a zk part (its shape is checked with the
// transaction).
func (j *ZK) ToZK() (*quant.ZK, error) {
	z := &quant.ZK{Scope: j.Scope, Min: j.Min, Max: j.Max}
	for c, name := range zkCircuits {
		if name == j.Circuit {
			z.Circuit = c
		}
	}
	if z.Circuit == 0 {
		return nil, quant.Errorf(quant.CodeMalformed, "zk.circuit: %q is not membership, preimage or range", j.Circuit)
	}
	for _, f := range []struct {
		name string
		s    string
		dst  *quant.Hash
	}{{"root", j.Root, &z.Root}, {"nullifier", j.Nullifier, &z.Nullifier}, {"commitment", j.Commitment, &z.Commitment}, {"prev", j.Prev, &z.Prev}} {
		if f.s == "" {
			continue
		}
		b, err := hex.DecodeString(f.s)
		if err != nil || len(b) != quant.HashSize {
			return nil, quant.Errorf(quant.CodeMalformed, "zk.%s: not 64 hex characters", f.name)
		}
		*f.dst = quant.Hash(b)
	}
	p, err := hex.DecodeString(j.Proof)
	if err != nil || len(p) > quant.MaxZKProof {
		return nil, quant.Errorf(quant.CodeMalformed, "zk.proof: not hex of at most %d bytes", quant.MaxZKProof)
	}
	z.Proof = p
	return z, nil
}

// Cosig is a cosigner's public key and signature, in hex.
type Cosig struct {
	PubKey string `json:"pubkey"`
	Sig    string `json:"sig"`
}

// FromLock converts a lock to JSON; nil stays nil.
func FromLock(l *quant.Lock) *Lock {
	if l == nil {
		return nil
	}
	j := &Lock{Threshold: l.Threshold, NotBeforeHeight: l.NotBeforeHeight, NotBeforeTime: l.NotBeforeTime,
		WriteOnce: l.WriteOnce, AppendOnly: l.AppendOnly}
	for _, o := range l.Owners {
		j.Owners = append(j.Owners, hex.EncodeToString(o))
	}
	if l.Hash != nil {
		j.Hash = hex.EncodeToString(l.Hash[:])
	}
	if l.Commitment != nil {
		j.Commitment = hex.EncodeToString(l.Commitment[:])
	}
	return j
}

// ToLock converts JSON to a lock and checks it (quant.Lock.Check).
func (j *Lock) ToLock() (*quant.Lock, error) {
	l := &quant.Lock{Threshold: j.Threshold, NotBeforeHeight: j.NotBeforeHeight, NotBeforeTime: j.NotBeforeTime,
		WriteOnce: j.WriteOnce, AppendOnly: j.AppendOnly}
	if len(j.Owners) > quant.MaxOwners {
		return nil, quant.Errorf(quant.CodeMalformed, "lock: %d owners, limit %d", len(j.Owners), quant.MaxOwners)
	}
	for i, o := range j.Owners {
		b, err := hex.DecodeString(o)
		if err != nil || len(b) != 32 {
			return nil, quant.Errorf(quant.CodeMalformed, "lock: owners[%d] is not a 64-character hex public key", i)
		}
		l.Owners = append(l.Owners, b)
	}
	if j.Hash != "" {
		b, err := hex.DecodeString(j.Hash)
		if err != nil || len(b) != quant.HashSize {
			return nil, quant.Errorf(quant.CodeMalformed, "lock: hash is not a 64-character hex SHA-256 digest")
		}
		h := quant.Hash(b)
		l.Hash = &h
	}
	if j.Commitment != "" {
		b, err := hex.DecodeString(j.Commitment)
		if err != nil || len(b) != quant.HashSize {
			return nil, quant.Errorf(quant.CodeMalformed, "lock: commitment is not 64 hex characters")
		}
		h := quant.Hash(b)
		l.Commitment = &h
	}
	if err := l.Check(); err != nil {
		return nil, err
	}
	return l, nil
}

// FromTx converts a transaction to JSON, with its id.
func FromTx(tx *quant.Tx) Tx {
	id := tx.ID()
	t := Tx{ID: &id, Chain: tx.ChainID, Time: tx.Time, Nonce: tx.Nonce}
	switch tx.Kind {
	case quant.DataJSON:
		t.Kind, t.Data = KindJSON, json.RawMessage(tx.Data)
	default:
		t.Kind = KindBytes
		t.Data, _ = json.Marshal(base64.StdEncoding.EncodeToString(tx.Data))
	}
	if tx.Signed() {
		t.PubKey, t.Sig = hex.EncodeToString(tx.PubKey), hex.EncodeToString(tx.Sig)
	}
	t.Key, t.Lock = tx.Key, FromLock(tx.Lock)
	if tx.Reveal != nil {
		t.Reveal = hex.EncodeToString(tx.Reveal)
	}
	for _, c := range tx.Cosigs {
		t.Cosigs = append(t.Cosigs, Cosig{PubKey: hex.EncodeToString(c.PubKey), Sig: hex.EncodeToString(c.Sig)})
	}
	t.ZK = FromZK(tx.ZK)
	return t
}

// ToTx converts JSON to a transaction. JSON data is compacted (its
// canonical form); a given id must match the transaction's.
func (t *Tx) ToTx() (*quant.Tx, error) {
	if t.Raw != "" {
		return DecodeRaw([]byte(t.Raw))
	}
	tx := &quant.Tx{ChainID: t.Chain, Time: t.Time, Nonce: t.Nonce}
	switch t.Kind {
	case KindJSON, "":
		if len(t.Data) == 0 {
			return nil, fmt.Errorf("%w: data: missing", ErrInvalid)
		}
		d, err := quant.CompactJSON(t.Data)
		if err != nil {
			return nil, err
		}
		tx.Kind, tx.Data = quant.DataJSON, d
	case KindBytes:
		var s string
		if err := json.Unmarshal(t.Data, &s); err != nil {
			return nil, fmt.Errorf("%w: data: kind bytes needs a base64 string", ErrInvalid)
		}
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: data: not base64: %v", ErrInvalid, err)
		}
		tx.Kind, tx.Data = quant.DataBytes, d
	default:
		return nil, fmt.Errorf("%w: kind: %q is not json or bytes", ErrInvalid, t.Kind)
	}
	if t.PubKey != "" || t.Sig != "" {
		pk, err1 := hex.DecodeString(t.PubKey)
		sig, err2 := hex.DecodeString(t.Sig)
		if err1 != nil || err2 != nil || len(pk) != 32 || len(sig) != 64 {
			return nil, quant.Errorf(quant.CodeBadSignature, "pubkey must be 64 and sig 128 hex characters")
		}
		tx.PubKey, tx.Sig = pk, sig
	}
	if err := t.SetKeyedParts(tx); err != nil {
		return nil, err
	}
	if t.ID != nil && *t.ID != tx.ID() {
		return nil, fmt.Errorf("%w: id %s does not match the transaction (%s)", ErrInvalid, *t.ID, tx.ID())
	}
	return tx, nil
}

// DecodeRaw decodes a transaction's raw field: the hex of its canonical
// encoding. The transaction it returns does not alias raw.
func DecodeRaw(raw []byte) (*quant.Tx, error) {
	b := make([]byte, hex.DecodedLen(len(raw)))
	if _, err := hex.Decode(b, raw); err != nil {
		return nil, quant.Errorf(quant.CodeMalformed, "raw: not hex: %v", err)
	}
	return quant.DecodeTx(b)
}

// Header is a quant header in JSON.
type Header struct {
	Hash    quant.Hash `json:"hash"`
	Chain   quant.Hash `json:"chain"`
	Height  uint64     `json:"height"`
	Prev    quant.Hash `json:"prev"`
	TxRoot  quant.Hash `json:"tx_root"`
	Time    int64      `json:"time"`
	TxCount uint32     `json:"tx_count"`
	Seal    string     `json:"seal"`
}

// FromHeader converts a header to JSON.
func FromHeader(h *quant.Header) Header {
	return Header{
		Hash: h.Hash(), Chain: h.ChainID, Height: h.Height, Prev: h.Prev, TxRoot: h.TxRoot,
		Time: h.Time, TxCount: h.TxCount, Seal: hex.EncodeToString(h.Seal),
	}
}

// Quant is a quant in JSON: its header and, unless left out, its
// transactions (or, for a bang, its rules).
type Quant struct {
	Header
	Txs   []Tx            `json:"txs,omitempty"`
	Rules json.RawMessage `json:"rules,omitempty"`
}

// FromQuant converts a quant to JSON, with its transactions if withTxs.
func FromQuant(q *quant.Quant, withTxs bool) Quant {
	j := Quant{Header: FromHeader(&q.Header)}
	if q.IsBang() {
		j.Rules = json.RawMessage(q.Rules)
	}
	if withTxs {
		j.Txs = make([]Tx, len(q.Txs))
		for i, tx := range q.Txs {
			j.Txs[i] = FromTx(tx)
		}
	}
	return j
}

// SeedQuant is a quant in the seed's shape ({index, timestamp, data,
// previous_hash, proof}) for /json-chain and /leap, with its hash and
// transaction ids added. Data holds the transactions' payloads (bytes
// payloads as base64 strings); Timestamp is in seconds, as the seed's.
type SeedQuant struct {
	Index        uint64            `json:"index"`
	Timestamp    float64           `json:"timestamp"`
	Data         []json.RawMessage `json:"data"`
	PreviousHash string            `json:"previous_hash"`
	Proof        uint64            `json:"proof"`
	Hash         string            `json:"hash"`
	Transactions []quant.Hash      `json:"transactions"`
}

// FromQuantSeed converts a quant to the seed's shape; proof is the seal's
// nonce where the engine has one.
func FromQuantSeed(q *quant.Quant, proof uint64) SeedQuant {
	s := SeedQuant{
		Index:        q.Header.Height,
		Timestamp:    float64(q.Header.Time) / 1000,
		Data:         make([]json.RawMessage, len(q.Txs)),
		PreviousHash: q.Header.Prev.String(),
		Proof:        proof,
		Hash:         q.Hash().String(),
		Transactions: quant.TxIDs(q.Txs),
	}
	if q.IsBang() {
		s.PreviousHash = "0"
		s.Data = []json.RawMessage{json.RawMessage(q.Rules)}
	}
	for i, tx := range q.Txs {
		if tx.Kind == quant.DataJSON {
			s.Data[i] = json.RawMessage(tx.Data)
		} else {
			s.Data[i], _ = json.Marshal(base64.StdEncoding.EncodeToString(tx.Data))
		}
	}
	return s
}

// Submitted answers a transaction submission.
type Submitted struct {
	ID     quant.Hash `json:"id"`
	Status string     `json:"status"` // "pending", or "committed" once in the chain (a raft member answers then)
}

// BatchResult is one item of a batch submission's answer: an id, or an
// error.
type BatchResult struct {
	ID    quant.Hash `json:"id"`
	Error *ErrorBody `json:"error,omitempty"`
	// Index is the transaction's place in the batch, set only in an answer
	// that lists the refused transactions alone (ResultsRefused).
	Index *int `json:"index,omitempty"`
}

// ResultsRefused is the value of a batch submission's query parameter
// results that asks for an answer listing only the refused transactions,
// each with its index (a client that only needs to know whether all were
// taken, such as a raft follower forwarding to its leader, decodes
// nothing more). The default, ResultsAll, lists every transaction in
// order.
const (
	ResultsAll     = "all"
	ResultsRefused = "refused"
)

// Batch answers a batch submission.
type Batch struct {
	Accepted int           `json:"accepted"`
	Rejected int           `json:"rejected"`
	Results  []BatchResult `json:"results"`
}

// MaxProofHeaders is the longest header chain a node puts in a proof
// (GET /v1/txs/{id}?proof=full): a proof to a quant further above the
// transaction's is refused (code proof_too_long); ask for one to a nearer
// quant with to=HASH.
const MaxProofHeaders = 10_000

// TxStatus answers GET /v1/txs/{id}.
type TxStatus struct {
	Status        string       `json:"status"` // "pending" or "committed"
	Tx            Tx           `json:"tx"`
	Height        uint64       `json:"height,omitempty"`
	Index         uint32       `json:"index,omitempty"`
	Quant         *quant.Hash  `json:"quant,omitempty"`
	Confirmations uint64       `json:"confirmations,omitempty"`
	Proof         []quant.Hash `json:"proof,omitempty"` // Merkle inclusion proof of the id under the quant's tx_root
	TxCount       uint32       `json:"tx_count,omitempty"`
	// Full, asked for with ?proof=full, is the proof a client checks
	// offline against a quant hash it trusts (proof.Verify): the
	// transaction, the Merkle path, the quant's header and the headers
	// after it up to the tip or the quant to=HASH names.
	Full *proof.Proof `json:"proof_full,omitempty"`
}

// Stats are the chain stats of /stats: what a person reads and a peer
// compares to pick the better chain.
type Stats struct {
	Chain           quant.Hash `json:"chain"`
	Name            string     `json:"name"`
	Engine          string     `json:"engine"`
	Length          uint64     `json:"length"` // quants, bang included (the seed's figure)
	Height          uint64     `json:"height"`
	Tip             quant.Hash `json:"tip"`
	TipTime         int64      `json:"tip_time"`
	Work            string     `json:"work"` // accumulated weight, decimal
	Txs             uint64     `json:"txs"`
	PoolTxs         int        `json:"pool_txs"`
	PoolBytes       int64      `json:"pool_bytes"`
	QuantsPerMinute float64    `json:"quants_per_minute"`
	Peers           int        `json:"peers"`
	Syncing         bool       `json:"syncing"`
	SyncTarget      uint64     `json:"sync_target,omitempty"`
	// Finality is "final" where a committed quant is final (raft), or
	// "depth" where a deeper quant is surer (pow, poa).
	Finality string `json:"finality"`
	// Raft is set on a raft chain's member: its cluster's state.
	Raft *RaftStatus `json:"raft,omitempty"`
	// SQLLag is how many quants the node's SQL projection is behind;
	// absent when the projection is off.
	SQLLag *uint64 `json:"sql_lag_quants,omitempty"`
}

// ParseWork parses Stats.Work.
func ParseWork(s string) (*big.Int, bool) { return new(big.Int).SetString(s, 10) }

// Chain answers GET /v1/chain.
type Chain struct {
	ID    quant.Hash      `json:"id"`
	Rules json.RawMessage `json:"rules"`
	Stats Stats           `json:"stats"`
}

// NodeInfo answers GET /v1/node: who a node is and where it is reached,
// what another node needs to name it a member of a raft chain.
type NodeInfo struct {
	ID        string `json:"id"`                // its peer id, hex
	Key       string `json:"key"`               // its Ed25519 public key, hex
	Version   string `json:"version"`           // as 'qbc version' says it
	Addr      string `json:"addr"`              // where its API listens
	Advertise string `json:"advertise"`         // its API as other nodes reach it
	Started   int64  `json:"started,omitempty"` // when it started, Unix ms
	// UI is what it serves at /ui/: off, read or admin.
	UI string `json:"ui,omitempty"`
	// AdminAuth says its admin routes need the admin token.
	AdminAuth bool `json:"admin_auth"`
	// Replicas are the ordered chains (raft) it is a member of.
	Replicas []NodeReplica `json:"replicas"`
}

// NodeReplica is a node's member of an ordered chain.
type NodeReplica struct {
	Chain  quant.Hash `json:"chain"`
	Engine string     `json:"engine"`
	Member string     `json:"member"` // its member id
	Addr   string     `json:"addr"`   // its replica's transport address
}

// RaftStatus is a raft member's view of its chain's cluster: every
// committed quant is final.
type RaftStatus struct {
	ID           string   `json:"id"`   // this node's member id
	Addr         string   `json:"addr"` // its Raft transport address
	State        string   `json:"state"`
	Term         uint64   `json:"term"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	Leader       string   `json:"leader,omitempty"` // the leader's member id
	Voters       []string `json:"voters,omitempty"` // the member ids the cluster counts, as known here
	Pending      int      `json:"pending"`          // transactions waiting at this leader
	Halted       string   `json:"halted,omitempty"`
}

// Fork is the body of POST /v1/chains/{chain}/fork: the height of the
// parent's main-chain quant to grow from, and the fork's own rules.
type Fork struct {
	Height uint64          `json:"height"`
	Rules  json.RawMessage `json:"rules"`
}

// Ancestor is one step of a chain's lineage (GET
// /v1/chains/{chain}/lineage): the chain a fork grows from, and the quant
// there, with whether this node has checked that quant's history back to
// that chain's bang.
type Ancestor struct {
	Chain    quant.Hash `json:"chain"`
	Name     string     `json:"name,omitempty"`
	Height   uint64     `json:"height"`
	Hash     quant.Hash `json:"hash"`
	Verified bool       `json:"verified"`
	Problem  string     `json:"problem,omitempty"`
}

// Peer is one known node in GET /discover.
type Peer struct {
	ID       string    `json:"id,omitempty"`
	Addr     string    `json:"addr"`
	Height   uint64    `json:"height"`
	Work     string    `json:"work,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	State    string    `json:"state,omitempty"` // live or down
	Score    int       `json:"score"`
	// SyncedQuants counts the quants this node took from the peer while
	// syncing.
	SyncedQuants uint64 `json:"synced_quants"`
}

// Event is the data of a server-sent event: a committed quant's header, or
// a pending transaction's id.
type Event struct {
	Kind   string      `json:"kind"`
	Chain  quant.Hash  `json:"chain"`
	Header *Header     `json:"header,omitempty"`
	TxID   *quant.Hash `json:"tx_id,omitempty"`
}

// SetKeyedParts sets tx's record key, lock, reveal and cosignatures from
// t, checked as DecodeTx checks them.
func (t *Tx) SetKeyedParts(tx *quant.Tx) error {
	if t.Key == "" && t.Lock == nil && t.Reveal == "" && t.Cosigs == nil && t.ZK == nil {
		return nil
	}
	if t.Key != "" {
		if err := quant.CheckKey(t.Key); err != nil {
			return err
		}
	}
	tx.Key = t.Key
	if t.Lock != nil {
		l, err := t.Lock.ToLock()
		if err != nil {
			return err
		}
		tx.Lock = l
	}
	if t.Reveal != "" {
		b, err := hex.DecodeString(t.Reveal)
		if err != nil {
			return quant.Errorf(quant.CodeMalformed, "reveal: not hex")
		}
		tx.Reveal = b
	}
	if len(t.Cosigs) > quant.MaxCosigs {
		return quant.Errorf(quant.CodeMalformed, "cosigs: %d, limit %d", len(t.Cosigs), quant.MaxCosigs)
	}
	for i, c := range t.Cosigs {
		pk, err1 := hex.DecodeString(c.PubKey)
		sig, err2 := hex.DecodeString(c.Sig)
		if err1 != nil || err2 != nil || len(pk) != 32 || len(sig) != 64 {
			return quant.Errorf(quant.CodeBadSignature, "cosigs[%d]: pubkey must be 64 and sig 128 hex characters", i)
		}
		tx.Cosigs = append(tx.Cosigs, quant.Cosig{PubKey: pk, Sig: sig})
	}
	if t.ZK != nil {
		z, err := t.ZK.ToZK()
		if err != nil {
			return err
		}
		tx.ZK = z
	}
	// The same checks DecodeTx makes: one transaction, one form.
	_, err := quant.DecodeTx(tx.Encode())
	return err
}

// Record answers GET /v1/chains/{id}/records/{key}: the key's latest
// version, with its transaction and inclusion proof as GET .../txs/{id}
// gives them, and the lock in force.
type Record struct {
	Key  string `json:"key"`
	Lock *Lock  `json:"lock,omitempty"`
	TxStatus
}

// Version is one version of a record in a history.
type Version struct {
	Height uint64     `json:"height"`
	Index  uint32     `json:"index"`
	TxID   quant.Hash `json:"tx"`
	Time   int64      `json:"time"`
	Signer string     `json:"signer,omitempty"`
	Lock   *Lock      `json:"lock,omitempty"` // in force after this version
}

// History answers GET .../records/{key}/history: versions oldest first;
// Next, when set, is the after= of the next page.
type History struct {
	Key      string    `json:"key"`
	Versions []Version `json:"versions"`
	Next     string    `json:"next,omitempty"`
}

// Keys answers GET .../records: keys in byte order; Next, when set, is the
// after= of the next page.
type Keys struct {
	Keys []string `json:"keys"`
	Next string   `json:"next,omitempty"`
}

// ZKKeys answers GET /v1/chains/{id}/zk/keys: the circuits the chain's
// rules name, with their keys' hashes, and its groups.
type ZKKeys struct {
	Circuits []ZKKey         `json:"circuits"`
	Groups   []quant.ZKGroup `json:"groups,omitempty"`
}

// ZKKey is one circuit's keys: the verifying key's and proving key's
// SHA-256 (hex), and whether this node serves the proving key
// (GET .../zk/keys/{circuit}.pk; the verifying key, .vk, is in the rules).
type ZKKey struct {
	Circuit  string `json:"circuit"`
	Depth    int    `json:"depth,omitempty"`
	VKSHA256 string `json:"vk_sha256"`
	PKSHA256 string `json:"pk_sha256"`
	PKServed bool   `json:"pk_served"`
}

// ZKChallenge answers GET /v1/chains/{id}/zk/challenge: a fresh random
// challenge (hex) that one read proof may bind, before ExpiresMs (Unix ms).
type ZKChallenge struct {
	Challenge string `json:"challenge"`
	ExpiresMs int64  `json:"expires_ms"`
}

// ZKRead is the body of POST /v1/chains/{id}/zk/read: a member's read of
// a read-gated key, with a membership proof bound to the challenge.
type ZKRead struct {
	Key       string `json:"key"`
	Challenge string `json:"challenge"`
	ZK        ZK     `json:"zk"`
}
