package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

// Zero-knowledge routes (docs/zk.md): the keys a chain's rules name, and
// anonymous reads of read-gated records. No route here logs who asked.

// Bounds of the read challenges a node keeps.
const (
	challengeTTL   = 2 * time.Minute
	maxChallenges  = 100_000
	maxZKReadBytes = 8 << 10
)

// challenges are the read challenges handed out and not yet used: each
// one is good for one read, on its chain, until it expires.
type challenges struct {
	mu sync.Mutex
	m  map[challengeKey]time.Time // → expiry
}

type challengeKey struct {
	chain quant.Hash
	c     [zk.ChallengeSize]byte
}

// issue makes a fresh challenge for chain, dropping expired ones; when
// full, it refuses (ErrRetry) rather than forget live ones.
func (cs *challenges) issue(chain quant.Hash, now time.Time) ([zk.ChallengeSize]byte, time.Time, error) {
	var c [zk.ChallengeSize]byte
	if _, err := rand.Read(c[:]); err != nil {
		return c, time.Time{}, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.m == nil {
		cs.m = make(map[challengeKey]time.Time)
	}
	if len(cs.m) >= maxChallenges {
		for k, exp := range cs.m {
			if now.After(exp) {
				delete(cs.m, k)
			}
		}
		if len(cs.m) >= maxChallenges {
			return c, time.Time{}, fmt.Errorf("%w: too many read challenges outstanding", ErrRetry)
		}
	}
	exp := now.Add(challengeTTL)
	cs.m[challengeKey{chain, c}] = exp
	return c, exp, nil
}

// take spends a challenge: true if it was issued for chain, is unexpired
// and unused.
func (cs *challenges) take(chain quant.Hash, c [zk.ChallengeSize]byte, now time.Time) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	k := challengeKey{chain, c}
	exp, ok := cs.m[k]
	delete(cs.m, k)
	return ok && !now.After(exp)
}

func (s *Server) zkRoutes(chainRoute func(method, path string, fn http.HandlerFunc)) {
	chainRoute("GET", "/zk/keys", s.zkKeys)
	chainRoute("GET", "/zk/keys/{file}", s.zkKeyFile)
	chainRoute("GET", "/zk/challenge", s.zkChallenge)
	chainRoute("POST", "/zk/read", s.zkRead)
}

// zkKeys lists the circuits' key hashes and the groups.
func (s *Server) zkKeys(w http.ResponseWriter, r *http.Request) {
	l := s.lg(r)
	z := l.Chain.Rules().ZK
	out := api.ZKKeys{Circuits: []api.ZKKey{}}
	if z != nil {
		out.Groups = z.Groups
		for _, c := range z.Circuits {
			vk, _ := hex.DecodeString(c.VK)
			h := sha256.Sum256(vk)
			_, err := s.provingKey(l, c.Circuit)
			out.Circuits = append(out.Circuits, api.ZKKey{Circuit: c.Circuit, Depth: c.Depth,
				VKSHA256: hex.EncodeToString(h[:]), PKSHA256: c.PKSHA256, PKServed: err == nil})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// zkKeyFile serves {circuit}.vk (from the rules) or {circuit}.pk (a file
// this node holds, served only if its SHA-256 is the rules').
func (s *Server) zkKeyFile(w http.ResponseWriter, r *http.Request) {
	l := s.lg(r)
	file := r.PathValue("file")
	circuit, ext, _ := strings.Cut(file, ".")
	e := l.Chain.Rules().ZKCircuit(circuit)
	if e == nil || (ext != "vk" && ext != "pk") {
		s.writeError(w, r, fmt.Errorf("%w: no key %q on this chain (circuit.vk or circuit.pk)", ErrNotFound, file))
		return
	}
	var b []byte
	if ext == "vk" {
		b, _ = hex.DecodeString(e.VK)
	} else {
		var err error
		if b, err = s.provingKey(l, circuit); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// provingKey reads circuit's proving key from the node's key directory
// (ZKKeyDir/{circuit}.pk), bounded, and checks it against the rules.
func (s *Server) provingKey(l *Ledger, circuit string) ([]byte, error) {
	want, ok := l.Chain.ZKProvingKeyHash(circuit)
	if !ok || s.cfg.ZKKeyDir == "" {
		return nil, fmt.Errorf("%w: this node serves no proving key for %q", ErrNotFound, circuit)
	}
	f, err := os.Open(filepath.Join(s.cfg.ZKKeyDir, circuit+".pk"))
	if err != nil {
		return nil, fmt.Errorf("%w: this node holds no proving key for %q", ErrNotFound, circuit)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, zk.MaxProvingKeySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > zk.MaxProvingKeySize || sha256.Sum256(b) != want {
		return nil, fmt.Errorf("%w: the proving key this node holds for %q is not the one the chain's rules name", ErrNotFound, circuit)
	}
	return b, nil
}

// zkChallenge hands out a fresh read challenge.
func (s *Server) zkChallenge(w http.ResponseWriter, r *http.Request) {
	l := s.lg(r)
	c, exp, err := s.challenges.issue(l.Chain.ID(), time.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, api.ZKChallenge{Challenge: hex.EncodeToString(c[:]), ExpiresMs: exp.UnixMilli()})
}

// zkRead answers a read-gated record to a member's proof bound to a
// challenge this node issued (spent by the attempt, valid or not).
func (s *Server) zkRead(w http.ResponseWriter, r *http.Request) {
	l := s.lg(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxZKReadBytes)
	var req api.ZKRead
	if err := decodeJSON(r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := quant.CheckKey(req.Key); err != nil {
		s.writeError(w, r, err)
		return
	}
	cb, err := hex.DecodeString(req.Challenge)
	if err != nil || len(cb) != zk.ChallengeSize {
		s.writeError(w, r, fmt.Errorf("%w: challenge: not %d hex bytes", ErrBadRequest, zk.ChallengeSize))
		return
	}
	if !s.challenges.take(l.Chain.ID(), [zk.ChallengeSize]byte(cb), time.Now()) {
		s.writeError(w, r, errorf(api.CodeUnauthorized, "challenge unknown, used or expired: GET .../zk/challenge for a fresh one"))
		return
	}
	z, err := req.ZK.ToZK()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := l.Chain.CheckRead(req.Key, cb, z); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveRecord(w, r, l, req.Key, false, quant.Hash{})
}

// gated refuses a plain read of a read-gated key (401, with the way in).
func (s *Server) gated(w http.ResponseWriter, r *http.Request, l *Ledger, key string) bool {
	if !l.Chain.ReadGated(key) {
		return false
	}
	s.writeError(w, r, errorf(api.CodeUnauthorized, "key "+key+" is read-gated: GET .../zk/challenge, then POST .../zk/read with a membership proof"))
	return true
}
