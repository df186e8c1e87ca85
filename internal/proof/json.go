package proof

import (
	"encoding/hex"
	"encoding/json"

	"github.com/qbc-chain/qbc/internal/quant"
)

// wire is a proof's JSON: every encoding in lower-case hex.
//
//	{"version":1,"tx":"01…","index":2,"tx_count":5,"path":["…"],
//	 "header":"01…","headers":["01…"]}
type wire struct {
	Version int          `json:"version"`
	Tx      string       `json:"tx"`
	Index   uint32       `json:"index"`
	TxCount uint32       `json:"tx_count"`
	Path    []quant.Hash `json:"path"`
	Header  string       `json:"header"`
	Headers []string     `json:"headers"`
}

// MarshalJSON encodes p as its JSON form (docs/proofs.md).
func (p *Proof) MarshalJSON() ([]byte, error) {
	w := wire{
		Version: Version,
		Tx:      hex.EncodeToString(p.Tx),
		Index:   p.Index,
		TxCount: p.TxCount,
		Path:    p.Path,
		Header:  hex.EncodeToString(p.Header),
		Headers: make([]string, len(p.Headers)),
	}
	if w.Path == nil {
		w.Path = []quant.Hash{}
	}
	for i, h := range p.Headers {
		w.Headers[i] = hex.EncodeToString(h)
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a proof's JSON form. It refuses an unknown
// version, and checks every count and length before it decodes the hex
// (the bytes of the JSON itself are the caller's to bound: Decode does).
// The proof owns what it decodes.
func (p *Proof) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return errorf(CodeMalformed, "%v", err)
	}
	if w.Version != Version {
		return errorf(CodeMalformed, "version %d, want %d", w.Version, Version)
	}
	switch {
	case len(w.Path) > MaxPathLen:
		return errorf(CodeTooLarge, "path has %d hashes, limit %d", len(w.Path), MaxPathLen)
	case len(w.Headers) > MaxHeaders:
		return errorf(CodeTooLarge, "%d headers, limit %d", len(w.Headers), MaxHeaders)
	}
	var out Proof
	var err *Error
	if out.Tx, err = unhex(w.Tx, quant.MaxTxSize); err != nil {
		return errorf(err.Code, "tx: %s", err.Description)
	}
	if out.Header, err = unhex(w.Header, quant.MaxHeaderSize); err != nil {
		return errorf(err.Code, "header: %s", err.Description)
	}
	out.Index, out.TxCount, out.Path = w.Index, w.TxCount, w.Path
	out.Headers = make([][]byte, len(w.Headers))
	for i, s := range w.Headers {
		if out.Headers[i], err = unhex(s, quant.MaxHeaderSize); err != nil {
			return errorf(err.Code, "headers[%d]: %s", i, err.Description)
		}
	}
	if err := checkLimits(&out); err != nil {
		return err
	}
	*p = out
	return nil
}

// unhex decodes a hex field of at most max bytes, checking the length
// before it allocates.
func unhex(s string, max int) ([]byte, *Error) {
	if len(s) > 2*max {
		return nil, errorf(CodeTooLarge, "%d bytes, limit %d", len(s)/2, max)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errorf(CodeMalformed, "not hex: %v", err)
	}
	return b, nil
}

// Decode decodes a proof's JSON form, refusing input over MaxJSONSize
// before it reads it. The proof shares no memory with b.
func Decode(b []byte) (*Proof, error) {
	if len(b) > MaxJSONSize {
		return nil, errorf(CodeTooLarge, "proof is %d bytes, limit %d", len(b), MaxJSONSize)
	}
	p := &Proof{}
	if err := p.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return p, nil
}
