//go:build race

package schema

// slowdown scales the fuzz tests' time bound: the race detector makes the
// library several times slower.
const slowdown = 10
