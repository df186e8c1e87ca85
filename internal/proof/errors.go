package proof

import (
	"errors"
	"fmt"
)

// Code names what part of a proof failed. Callers compare codes, never
// messages.
type Code string

// Why Verify or Decode refused a proof. The strings are stable: the CLI
// prints them.
const (
	CodeMalformed   Code = "malformed"    // a part does not decode, or the proof's version is unknown
	CodeTooLarge    Code = "too_large"    // a part or the whole is over its limit
	CodeWrongChain  Code = "wrong_chain"  // the transaction names another chain than its quant
	CodeNotIncluded Code = "not_included" // the Merkle path does not lead from the transaction's id to the header's tx_root
	CodeBadLink     Code = "bad_link"     // a header's prev is not the hash of the header before it, or its height does not follow
	CodeNotTrusted  Code = "not_trusted"  // no quant in the proof has the trusted hash
)

// Error is a refused proof: a code and what, in words, failed.
type Error struct {
	Code        Code
	Description string
}

// Error implements error.
func (e *Error) Error() string { return "proof: " + string(e.Code) + ": " + e.Description }

// Is lets errors.Is match an Error by code:
// errors.Is(err, &proof.Error{Code: proof.CodeNotTrusted}).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && (t.Description == "" || t.Description == e.Description)
}

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
