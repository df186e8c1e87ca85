package peer

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{
		Accepted: "accepted", Known: "known", Orphan: "orphan", Declined: "declined", Invalid: "invalid", 9: "verdict(9)",
	} {
		if got := v.String(); got != want {
			t.Errorf("Verdict(%d).String() = %q, want %q", v, got, want)
		}
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		code   Code
		status int
	}{
		{CodeBusy, http.StatusServiceUnavailable},
		{CodeTooLarge, http.StatusRequestEntityTooLarge},
		{CodeMalformed, http.StatusBadRequest},
		{CodeUnauthenticated, http.StatusUnauthorized},
		{CodeNotMember, http.StatusForbidden},
		{CodeBanned, http.StatusForbidden},
		{CodeRefused, http.StatusUnprocessableEntity},
	} {
		if got := tc.code.Status(); got != tc.status {
			t.Errorf("%s: status %d, want %d", tc.code, got, tc.status)
		}
	}
	if c := guardRefusal(fmt.Errorf("%w: x", ErrNotMember)); c != CodeNotMember {
		t.Errorf("guardRefusal(not member) = %s", c)
	}
	if c := guardRefusal(ErrReplay); c != CodeUnauthenticated {
		t.Errorf("guardRefusal(replay) = %s", c)
	}
	for _, tc := range []struct {
		err   error
		code  Code
		fault bool
	}{
		{quant.Errorf(quant.CodeWrongChain, "x"), Code(quant.CodeWrongChain), true},
		{quant.Errorf(quant.CodeMalformed, "x"), Code(quant.CodeMalformed), true},
		{quant.Errorf(quant.CodeDuplicate, "x"), Code(quant.CodeDuplicate), false},
		{quant.Errorf(quant.CodeUnknownParent, "x"), Code(quant.CodeUnknownParent), false},
		{errors.New("store: closed"), CodeRefused, false},
	} {
		if c := refusalOf(tc.err); c != tc.code {
			t.Errorf("refusalOf(%v) = %s, want %s", tc.err, c, tc.code)
		}
		if f := senderFault(tc.err); f != tc.fault {
			t.Errorf("senderFault(%v) = %v, want %v", tc.err, f, tc.fault)
		}
	}
}
