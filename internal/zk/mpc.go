package zk

import (
	"bytes"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	cs "github.com/consensys/gnark/constraint/bn254"
)

// Multi-party setup (gnark's backend/groth16/bn254/mpcsetup): keys that
// are sound if any one participant was honest and destroyed its
// randomness. Two phases, each a chain of contributions, each checked
// against the one before:
//
//	phase 1 (powers of tau, any circuit of the domain's size):
//	  MPCInit → MPCContribute by each participant → MPCPhase2 (verify all,
//	  seal with a public random beacon) → the commons and phase 2's start
//	phase 2 (this circuit):
//	  MPCContribute by each participant → MPCFinish (verify all, seal with a
//	  beacon) → the proving and verifying keys.
//
// A state travels as a file: a header (mpcMagic, phase, circuit, depth),
// then gnark's encoding. Decoding is capped at MaxProvingKeySize and
// recovers from panics; gnark's decoders still allocate what the lengths
// inside say, so take states only from the ceremony's participants.

const mpcMagic = "qbc-zk-mpc/v1\n"

// MPC phases in a state's header.
const (
	mpcPhase1  = 1
	mpcPhase2  = 2
	mpcCommons = 3
)

func mpcHeader(phase byte, c Circuit, depth int) []byte {
	return append([]byte(mpcMagic), phase, byte(c), byte(depth))
}

// readMPC checks a state's header and returns its phase, circuit, depth
// and body.
func readMPC(b []byte) (phase byte, c Circuit, depth int, body []byte, err error) {
	if len(b) > MaxProvingKeySize {
		return 0, 0, 0, nil, fmt.Errorf("%w: mpc state is %d bytes, limit %d", ErrTooLarge, len(b), MaxProvingKeySize)
	}
	h := len(mpcMagic) + 3
	if len(b) < h || string(b[:len(mpcMagic)]) != mpcMagic {
		return 0, 0, 0, nil, fmt.Errorf("%w: not a qbc mpc state", ErrMalformed)
	}
	phase, c, depth = b[h-3], Circuit(b[h-2]), int(b[h-1])
	if !c.Known() || phase < mpcPhase1 || phase > mpcCommons {
		return 0, 0, 0, nil, fmt.Errorf("%w: mpc state: unknown phase or circuit", ErrMalformed)
	}
	return phase, c, depth, b[h:], nil
}

func mpcR1CS(c Circuit, depth int) (*cs.R1CS, uint64, error) {
	ccs, err := Compile(c, depth)
	if err != nil {
		return nil, 0, err
	}
	r, ok := ccs.(*cs.R1CS)
	if !ok {
		return nil, 0, fmt.Errorf("zk: %s is not a BN254 R1CS", c)
	}
	return r, ecc.NextPowerOfTwo(uint64(r.GetNbConstraints())), nil
}

// MPCInit starts a ceremony for circuit c: phase 1's initial state.
func MPCInit(c Circuit, depth int) ([]byte, error) {
	depth = depthOf(c, depth)
	_, n, err := mpcR1CS(c, depth)
	if err != nil {
		return nil, err
	}
	p := mpcsetup.NewPhase1(n)
	var b bytes.Buffer
	b.Write(mpcHeader(mpcPhase1, c, depth))
	if _, err := p.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MPCContribute adds this participant's randomness to a state (phase 1 or
// 2) and returns the next state. The randomness is drawn from crypto/rand
// and forgotten when the call returns.
func MPCContribute(state []byte) ([]byte, error) {
	phase, c, depth, body, err := readMPC(state)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(mpcHeader(phase, c, depth))
	switch phase {
	case mpcPhase1:
		p := new(mpcsetup.Phase1)
		if err := readAll(p, body, "mpc phase 1"); err != nil {
			return nil, err
		}
		p.Contribute()
		_, err = p.WriteTo(&b)
	case mpcPhase2:
		p := new(mpcsetup.Phase2)
		if err := readAll(p, body, "mpc phase 2"); err != nil {
			return nil, err
		}
		p.Contribute()
		_, err = p.WriteTo(&b)
	default:
		return nil, fmt.Errorf("%w: the commons take no contribution", ErrMalformed)
	}
	return b.Bytes(), err
}

// MPCPhase2 verifies phase 1's contributions (in order, each against the
// one before, the first against the initial state), seals it with the
// beacon, and returns the commons and phase 2's initial state.
func MPCPhase2(beacon []byte, contributions ...[]byte) (commons, start []byte, err error) {
	if len(contributions) == 0 {
		return nil, nil, fmt.Errorf("zk: mpc: phase 1 needs at least one contribution")
	}
	var ps []*mpcsetup.Phase1
	var c Circuit
	var depth int
	for i, s := range contributions {
		phase, ci, d, body, err := readMPC(s)
		if err != nil {
			return nil, nil, fmt.Errorf("contribution %d: %w", i, err)
		}
		if phase != mpcPhase1 || (i > 0 && (ci != c || d != depth)) {
			return nil, nil, fmt.Errorf("%w: contribution %d is not phase 1 of the same circuit", ErrMalformed, i)
		}
		c, depth = ci, d
		p := new(mpcsetup.Phase1)
		if err := readAll(p, body, "mpc phase 1"); err != nil {
			return nil, nil, fmt.Errorf("contribution %d: %w", i, err)
		}
		ps = append(ps, p)
	}
	r, n, err := mpcR1CS(c, depth)
	if err != nil {
		return nil, nil, err
	}
	srs, err := mpcsetup.VerifyPhase1(n, beacon, ps...)
	if err != nil {
		return nil, nil, fmt.Errorf("zk: mpc phase 1 does not verify: %w", err)
	}
	var cb, sb bytes.Buffer
	cb.Write(mpcHeader(mpcCommons, c, depth))
	if _, err := srs.WriteTo(&cb); err != nil {
		return nil, nil, err
	}
	var p2 mpcsetup.Phase2
	p2.Initialize(r, &srs)
	sb.Write(mpcHeader(mpcPhase2, c, depth))
	if _, err := p2.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return cb.Bytes(), sb.Bytes(), nil
}

// MPCFinish verifies phase 2's contributions against the commons, seals
// with the beacon and returns the keys.
func MPCFinish(commons, beacon []byte, contributions ...[]byte) (*Keys, error) {
	phase, c, depth, body, err := readMPC(commons)
	if err != nil {
		return nil, err
	}
	if phase != mpcCommons {
		return nil, fmt.Errorf("%w: not the commons of a ceremony", ErrMalformed)
	}
	var srs mpcsetup.SrsCommons
	if err := readAll(&srs, body, "mpc commons"); err != nil {
		return nil, err
	}
	if len(contributions) == 0 {
		return nil, fmt.Errorf("zk: mpc: phase 2 needs at least one contribution")
	}
	var ps []*mpcsetup.Phase2
	for i, s := range contributions {
		ph, ci, d, body, err := readMPC(s)
		if err != nil {
			return nil, fmt.Errorf("contribution %d: %w", i, err)
		}
		if ph != mpcPhase2 || ci != c || d != depth {
			return nil, fmt.Errorf("%w: contribution %d is not phase 2 of this ceremony", ErrMalformed, i)
		}
		p := new(mpcsetup.Phase2)
		if err := readAll(p, body, "mpc phase 2"); err != nil {
			return nil, fmt.Errorf("contribution %d: %w", i, err)
		}
		ps = append(ps, p)
	}
	r, _, err := mpcR1CS(c, depth)
	if err != nil {
		return nil, err
	}
	pk, vk, err := mpcsetup.VerifyPhase2(r, &srs, beacon, ps...)
	if err != nil {
		return nil, fmt.Errorf("zk: mpc phase 2 does not verify: %w", err)
	}
	return &Keys{Circuit: c, Depth: depth, PK: pk, VK: vk}, nil
}
