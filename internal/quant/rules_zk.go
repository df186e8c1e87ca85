package quant

import (
	"encoding/hex"
	"strings"
)

// ZKRules are a chain's zero-knowledge rules (docs/zk.md).
type ZKRules struct {
	// Circuits are the circuits the chain takes proofs of, each with its
	// verifying key in full (hex of zk.EncodeVerifyingKey: every node
	// checks proofs with it, so it travels with the rules and the chain id
	// names it) and the SHA-256 of its proving key (which nodes serve and
	// clients check).
	Circuits []ZKCircuit `json:"circuits"`
	// Groups are the anonymous groups: members' commitments listed in the
	// record GroupKey(name), written by the group's admins.
	Groups []ZKGroup `json:"groups,omitempty"`
}

// ZKCircuit names one circuit's keys.
type ZKCircuit struct {
	Circuit string `json:"circuit"` // membership, preimage or range
	// Depth is the membership tree's depth (groups of up to 2^depth
	// members); 0 for the other circuits.
	Depth    int    `json:"depth,omitempty"`
	VK       string `json:"vk"`        // hex of the encoded verifying key
	PKSHA256 string `json:"pk_sha256"` // hex SHA-256 of the encoded proving key
}

// ZKGroup is an anonymous group.
type ZKGroup struct {
	Name string `json:"name"`
	// Prefix: record keys under it may be written by any member, with a
	// membership proof in place of a signature.
	Prefix string `json:"prefix"`
	// Admins are hex Ed25519 keys; one of them signs each change of the
	// group record (joins, leaves).
	Admins []string `json:"admins"`
	// RootWindow is how many quants a replaced root still proves
	// membership: a proof made against the root before a join stays
	// valid while the join is less than RootWindow quants old.
	RootWindow uint64 `json:"root_window"`
	// ReadGated: records under Prefix are served only to a requester who
	// presents a membership proof bound to a fresh node challenge.
	ReadGated bool `json:"read_gated,omitempty"`
}

// GroupPrefix is where groups' member lists live: GroupKey(name).
const GroupPrefix = "zk/group/"

// GroupKey is the record key of a group's member list.
func GroupKey(name string) string { return GroupPrefix + name }

// Limits of ZK rules.
const (
	maxZKGroups   = 64
	maxZKVKHex    = 2 * 8192
	maxRootWindow = 1 << 32
)

// checkZKRules checks a chain's zk rules: each circuit known and given
// once, a membership depth of 1 to 32, keys in hex of the right sizes;
// groups named by 1 to 64 letters, digits, '-' or '_', given once, each
// with a valid key prefix outside the reserved zk/ keys, 1 to 64 admins
// and a root window up to 2^32 quants; groups need the membership circuit.
func checkZKRules(z *ZKRules) error {
	if z == nil {
		return nil
	}
	seen := map[string]bool{}
	for i, c := range z.Circuits {
		switch c.Circuit {
		case "membership":
			if c.Depth < 1 || c.Depth > 32 {
				return Errorf(CodeBadRules, "zk.circuits[%d].depth: must be 1 to 32", i)
			}
		case "preimage", "range":
			if c.Depth != 0 {
				return Errorf(CodeBadRules, "zk.circuits[%d].depth: only for membership", i)
			}
		default:
			return Errorf(CodeBadRules, "zk.circuits[%d].circuit: %q is not membership, preimage or range", i, c.Circuit)
		}
		if seen[c.Circuit] {
			return Errorf(CodeBadRules, "zk.circuits[%d]: %s is given twice", i, c.Circuit)
		}
		seen[c.Circuit] = true
		if !lowerHex(c.VK) || len(c.VK) == 0 || len(c.VK) > maxZKVKHex {
			return Errorf(CodeBadRules, "zk.circuits[%d].vk: must be lower-case hex of at most %d bytes", i, maxZKVKHex/2)
		}
		if !lowerHex(c.PKSHA256) || len(c.PKSHA256) != 64 {
			return Errorf(CodeBadRules, "zk.circuits[%d].pk_sha256: must be 64 lower-case hex digits", i)
		}
	}
	if len(z.Groups) > 0 && !seen["membership"] {
		return Errorf(CodeBadRules, "zk.groups: groups need the membership circuit")
	}
	if len(z.Groups) > maxZKGroups {
		return Errorf(CodeBadRules, "zk.groups: at most %d", maxZKGroups)
	}
	names := map[string]bool{}
	for i, g := range z.Groups {
		if !groupName(g.Name) || names[g.Name] {
			return Errorf(CodeBadRules, "zk.groups[%d].name: 1 to 64 letters, digits, '-' or '_', each name once", i)
		}
		names[g.Name] = true
		if err := CheckKey(g.Prefix); err != nil || strings.HasPrefix(g.Prefix, "zk/") {
			return Errorf(CodeBadRules, "zk.groups[%d].prefix: a record key outside zk/", i)
		}
		if len(g.Admins) == 0 || len(g.Admins) > 64 {
			return Errorf(CodeBadRules, "zk.groups[%d].admins: 1 to 64 keys", i)
		}
		for j, a := range g.Admins {
			if b, err := hex.DecodeString(a); err != nil || len(b) != 32 || !lowerHex(a) {
				return Errorf(CodeBadRules, "zk.groups[%d].admins[%d]: not a lower-case hex Ed25519 public key", i, j)
			}
		}
		if g.RootWindow > maxRootWindow {
			return Errorf(CodeBadRules, "zk.groups[%d].root_window: at most %d", i, uint64(maxRootWindow))
		}
	}
	return nil
}

func lowerHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(s)%2 == 0
}

func groupName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ZKCircuit returns the rules' entry for a circuit by name, or nil.
func (r *Rules) ZKCircuit(name string) *ZKCircuit {
	if r.ZK == nil {
		return nil
	}
	for i := range r.ZK.Circuits {
		if r.ZK.Circuits[i].Circuit == name {
			return &r.ZK.Circuits[i]
		}
	}
	return nil
}

// GroupFor returns the group whose prefix key starts with (the longest),
// or nil.
func (r *Rules) GroupFor(key string) *ZKGroup {
	if r.ZK == nil {
		return nil
	}
	var best *ZKGroup
	for i := range r.ZK.Groups {
		g := &r.ZK.Groups[i]
		if strings.HasPrefix(key, g.Prefix) && (best == nil || len(g.Prefix) > len(best.Prefix)) {
			best = g
		}
	}
	return best
}

// Group returns the group named name, or nil.
func (r *Rules) Group(name string) *ZKGroup {
	if r.ZK == nil {
		return nil
	}
	for i := range r.ZK.Groups {
		if r.ZK.Groups[i].Name == name {
			return &r.ZK.Groups[i]
		}
	}
	return nil
}

// anonymousMember reports whether tx is a membership-proven write of a key
// under a group's prefix.
func (r *Rules) anonymousMember(tx *Tx) bool {
	return tx.ZK != nil && tx.ZK.Circuit == ZKMembership && r.GroupFor(tx.Key) != nil
}

// allowsZKKey guards the reserved zk/ keys: nobody writes a nullifier key
// (a membership write spends one as a side effect), and a group's record
// is written only by a signature of one of the group's admins, so that
// only they change who is a member.
func (r *Rules) allowsZKKey(tx *Tx) error {
	if strings.HasPrefix(tx.Key, NullifierPrefix) {
		return Errorf(CodeNotAllowed, "keys under %q are reserved: a membership write records its nullifier there", NullifierPrefix)
	}
	if !strings.HasPrefix(tx.Key, GroupPrefix) {
		return nil
	}
	g := r.Group(strings.TrimPrefix(tx.Key, GroupPrefix))
	if g == nil {
		return Errorf(CodeNotAllowed, "key %q names no group of this chain's rules", tx.Key)
	}
	if tx.Signed() {
		k := hex.EncodeToString(tx.PubKey)
		for _, a := range g.Admins {
			if a == k {
				return nil
			}
		}
	}
	return Errorf(CodeNotAllowed, "group %q changes only by a signature of one of its admins", g.Name)
}
