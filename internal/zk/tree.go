package zk

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Depth limits of a group's Merkle tree.
const (
	MinDepth = 1
	MaxDepth = 32
)

// Tree is a sparse Merkle tree of member commitments at a fixed depth, in
// the shape gnark's std/accumulator/merkle checks: a leaf is MiMC(commitment),
// a node MiMC(left, right); leaves past the last member hold 0, and the
// subtrees made only of them are precomputed (zeros), so a tree of n members
// costs about n·depth hashes whatever its depth.
//
// A Tree copies the commitments it is given and is not changed after New.
type Tree struct {
	depth  int
	levels [][]fr.Element // levels[0] are the leaf hashes of the members
	zeros  []fr.Element   // zeros[l] is the root of an empty subtree of height l
}

// NewTree builds the tree of members (in their listed order) at depth.
func NewTree(depth int, members []Field) (*Tree, error) {
	if depth < MinDepth || depth > MaxDepth {
		return nil, fmt.Errorf("%w: depth %d, must be %d to %d", ErrMalformed, depth, MinDepth, MaxDepth)
	}
	if uint64(len(members)) > uint64(1)<<depth {
		return nil, fmt.Errorf("%w: %d members do not fit a tree of depth %d", ErrTooLarge, len(members), depth)
	}
	t := &Tree{depth: depth, zeros: make([]fr.Element, depth+1)}
	var zero fr.Element
	t.zeros[0] = mimcSum(zero)
	for l := 1; l <= depth; l++ {
		t.zeros[l] = mimcSum(t.zeros[l-1], t.zeros[l-1])
	}
	leaves := make([]fr.Element, len(members))
	for i, m := range members {
		leaves[i] = mimcSum(m.elem())
	}
	t.levels = append(t.levels, leaves)
	for l := 0; l < depth; l++ {
		cur := t.levels[l]
		next := make([]fr.Element, (len(cur)+1)/2)
		for i := range next {
			left := cur[2*i]
			right := t.zeros[l]
			if 2*i+1 < len(cur) {
				right = cur[2*i+1]
			}
			next[i] = mimcSum(left, right)
		}
		t.levels = append(t.levels, next)
	}
	return t, nil
}

// Depth is the tree's depth.
func (t *Tree) Depth() int { return t.depth }

// Len is the number of members.
func (t *Tree) Len() int { return len(t.levels[0]) }

// Root is the tree's root.
func (t *Tree) Root() Field {
	if top := t.levels[t.depth]; len(top) > 0 {
		return fieldOf(top[0])
	}
	return fieldOf(t.zeros[t.depth])
}

// Path returns the siblings from the leaf up of the member at index.
func (t *Tree) Path(index int) ([]Field, error) {
	if index < 0 || index >= t.Len() {
		return nil, fmt.Errorf("%w: member %d of %d", ErrMalformed, index, t.Len())
	}
	path := make([]Field, t.depth)
	i := index
	for l := 0; l < t.depth; l++ {
		sib := i ^ 1
		if sib < len(t.levels[l]) {
			path[l] = fieldOf(t.levels[l][sib])
		} else {
			path[l] = fieldOf(t.zeros[l])
		}
		i >>= 1
	}
	return path, nil
}

// Index returns the index of the first member with commitment c, or -1.
func (t *Tree) Index(c Field) int {
	leaf := mimcSum(c.elem())
	for i, l := range t.levels[0] {
		if l.Equal(&leaf) {
			return i
		}
	}
	return -1
}
