package peer

import (
	"errors"
	"net/http"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Code is why a node refused a peer message: the "code" of the
// {"error":{"code","message"}} answer of the peer wire protocol. Besides
// the codes below, a message whose content breaks a rule is refused with
// that rule's quant.Code (see refusalOf).
type Code string

// The refusal codes of the peer wire protocol.
const (
	CodeBusy            Code = "busy"            // too many messages being served; try again
	CodeTooLarge        Code = "too_large"       // the envelope is past MaxEnvelope or its kind's cap
	CodeMalformed       Code = "malformed"       // the envelope does not decode
	CodeUnauthenticated Code = "unauthenticated" // the envelope checks failed (signature, time, replay, addressee)
	CodeNotMember       Code = "not_member"      // the sender is not a member of this closed network
	CodeBanned          Code = "banned"          // the sender is banned for sending invalid data
	CodeRefused         Code = "refused"         // the content was refused for no rule's code
	CodeTimeout         Code = "request_timeout" // the message was not sent in time
)

// status is the HTTP status each refusal of an envelope is sent with. A
// refusal of its content (refusalOf) is sent with 422, whatever the code.
var status = map[Code]int{
	CodeBusy:            http.StatusServiceUnavailable,
	CodeTooLarge:        http.StatusRequestEntityTooLarge,
	CodeMalformed:       http.StatusBadRequest,
	CodeUnauthenticated: http.StatusUnauthorized,
	CodeNotMember:       http.StatusForbidden,
	CodeBanned:          http.StatusForbidden,
	CodeTimeout:         http.StatusRequestTimeout,
}

// Status is the HTTP status an envelope refused with c is answered with.
func (c Code) Status() int {
	if s, ok := status[c]; ok {
		return s
	}
	return http.StatusUnprocessableEntity
}

// refusalOf is the code a message is refused with when acting on it
// failed with err: the code of the rule it broke, or CodeRefused.
func refusalOf(err error) Code {
	if c := quant.CodeOf(err); c != "" {
		return Code(c)
	}
	return CodeRefused
}

// guardRefusal is the code an envelope failing the guard's checks is
// refused with.
func guardRefusal(err error) Code {
	if errors.Is(err, ErrNotMember) {
		return CodeNotMember
	}
	return CodeUnauthenticated
}

// senderFault reports whether a message refused with err costs its sender:
// it broke the protocol or a rule (not merely told of something known, or
// of a quant whose parent is unknown here).
func senderFault(err error) bool {
	switch quant.CodeOf(err) {
	case "", quant.CodeDuplicate, quant.CodeUnknownParent:
		return false
	}
	return true
}
