package quant

import (
	"errors"
	"fmt"
)

// Code classifies why a transaction, quant or bang was refused. Callers
// compare codes, never messages; httpapi maps each code to one HTTP status.
type Code string

// Rule-failure codes. They are stable strings because they appear in the API.
const (
	CodeMalformed     Code = "malformed"       // bytes do not decode to the type
	CodeTooLarge      Code = "too_large"       // a size limit is exceeded
	CodeBadVersion    Code = "bad_version"     // unknown encoding version
	CodeWrongChain    Code = "wrong_chain"     // names another chain
	CodeBadSignature  Code = "bad_signature"   // signature missing, malformed or invalid
	CodeNotAllowed    Code = "not_allowed"     // the chain's write policy refuses the writer
	CodeBadData       Code = "bad_data"        // payload is not what the chain accepts
	CodeTimeTooOld    Code = "time_too_old"    // timestamp not after the median time past, or negative
	CodeTimeTooNew    Code = "time_too_new"    // timestamp beyond now plus the chain's drift
	CodeDuplicate     Code = "duplicate"       // already in the pool or the chain
	CodeBadLink       Code = "bad_link"        // previous hash or height does not follow the parent
	CodeBadAncestor   Code = "bad_ancestor"    // descends from a quant found invalid
	CodeUnknownParent Code = "unknown_parent"  // the parent quant is not known
	CodeBadMerkleRoot Code = "bad_merkle_root" // transaction root does not match the body
	CodeBadSeal       Code = "bad_seal"        // the engine's seal (work, signature) is invalid
	CodeBadRules      Code = "bad_rules"       // a bang's rules are invalid
	CodeLimitExceeded Code = "limit_exceeded"  // a chain's block limits are exceeded

	// A write to a record key that its lock refuses (docs/records.md).
	CodeLockedOwner  Code = "locked_owner"  // too few of the lock's owners signed
	CodeLockedHash   Code = "locked_hash"   // no preimage, or a wrong one, of the lock's hash
	CodeLockedTime   Code = "locked_time"   // before the lock's height or time
	CodeWriteOnce    Code = "write_once"    // the key is write-once and already written
	CodeAppendOnly   Code = "append_only"   // a write would drop an append-only lock
	CodeNotEncrypted Code = "not_encrypted" // a field the chain's rules list is not encrypted

	// Zero-knowledge proofs (docs/zk.md).
	CodeBadProof      Code = "bad_proof"      // a zk proof is malformed or does not verify
	CodeStaleRoot     Code = "stale_root"     // a membership proof's root is not its group's, now or within the window
	CodeNullifierUsed Code = "nullifier_used" // a membership proof's nullifier is spent already
	CodeLockedSecret  Code = "locked_secret"  // no proof, or a wrong one, of a secret lock's commitment
)

// RuleError is a refusal with a code and a human-readable description.
type RuleError struct {
	Code        Code
	Description string
}

// Error implements error.
func (e *RuleError) Error() string { return string(e.Code) + ": " + e.Description }

// Is lets errors.Is match a RuleError by code:
// errors.Is(err, &quant.RuleError{Code: quant.CodeDuplicate}).
func (e *RuleError) Is(target error) bool {
	var t *RuleError
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code && (t.Description == "" || t.Description == e.Description)
}

// Errorf builds a RuleError with a formatted description.
func Errorf(code Code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first RuleError in err's chain, or "".
func CodeOf(err error) Code {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}
