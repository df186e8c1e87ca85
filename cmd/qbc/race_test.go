//go:build race

package main

// raceEnabled is the script condition [race]: scripts skip what the race
// detector makes too slow (zero-knowledge proofs in every qbc process).
const raceEnabled = true
