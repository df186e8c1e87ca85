// Package e2e holds end-to-end tests that run QBC as users do: the real
// binary in the Docker image, three nodes on the compose network, with
// nodes killed and cut off while they take load.
package e2e
