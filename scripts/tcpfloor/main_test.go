package main

import (
	"net"
	"testing"
)

// TestEchoAnswersEveryByte checks that the server echoes every byte the
// client sends (the client reads each message back in full) and counts
// them, the count the CPU it prints is divided by.
func TestEchoAnswersEveryByte(t *testing.T) {
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
	echoed, err := echo(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("client: %v", err)
	}
	if echoed != 300*200 {
		t.Errorf("echo counted %d B, want %d", echoed, 300*200)
	}
}
