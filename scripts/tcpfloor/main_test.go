package main

import (
	"net"
	"testing"
)

// TestEchoCountsRoundTrips checks that the server answers every message
// and counts one round trip per message, so that the CPU it prints is
// divided by the right number.
func TestEchoCountsRoundTrips(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sent := make(chan error, 1)
	go func() { sent <- send(ln.Addr().String(), 300, 200) }()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	trips, err := echo(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("client: %v", err)
	}
	if trips != 300 {
		t.Errorf("echo counted %d round trips, want 300", trips)
	}
}
