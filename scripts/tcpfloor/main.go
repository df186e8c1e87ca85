// Command tcpfloor measures what one small request and its answer cost a
// Go server on this machine before any HTTP: a TCP echo server on loopback
// and, in a child process, a client that sends N messages of SIZE bytes one
// at a time and reads each back. It prints the server's CPU per round trip
// (user and system time of its own process, the client's not counted),
// the figure below scripts/httpfloor's in docs/performance.md.
//
// usage: tcpfloor [-n 50000] [-size 200]
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func main() {
	n := flag.Int("n", 50000, "round trips")
	size := flag.Int("size", 200, "bytes per message")
	client := flag.String("client", "", "internal: run as the client of the echo server at this address")
	flag.Parse()
	if *n < 1 || *size < 1 {
		fmt.Fprintln(os.Stderr, "tcpfloor: -n and -size must be at least 1")
		os.Exit(2)
	}
	if *client != "" {
		if err := send(*client, *n, *size); err != nil {
			log.Fatal(err)
		}
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-client", ln.Addr().String(), "-n", strconv.Itoa(*n), "-size", strconv.Itoa(*size))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	before := cpu()
	echoed, err := echo(c)
	spent := cpu() - before
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		log.Fatal(err)
	}
	// Round trips from the bytes, not the reads: a message may arrive in
	// more than one read.
	if want := int64(*n) * int64(*size); echoed != want {
		log.Fatalf("echoed %d B, want %d", echoed, want)
	}
	fmt.Printf("%d round trips of %d B: %.1f µs of server CPU each\n", *n, *size, spent/float64(*n))
}

// echo writes back what it reads from c until the client closes it, and
// returns how many bytes it echoed.
func echo(c net.Conn) (int64, error) {
	defer c.Close()
	b := make([]byte, 64<<10)
	var echoed int64
	for {
		m, err := c.Read(b)
		if err == io.EOF {
			return echoed, nil
		}
		if err != nil {
			return echoed, err
		}
		if _, err := c.Write(b[:m]); err != nil {
			return echoed, err
		}
		echoed += int64(m)
	}
}

// send makes n round trips of size bytes to addr, one at a time.
func send(addr string, n, size int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	msg, back := make([]byte, size), make([]byte, size)
	for range n {
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, back); err != nil {
			return err
		}
	}
	return nil
}

// cpu is this process's user and system time so far, in µs.
func cpu() float64 {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		log.Fatal(err)
	}
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e3
}
