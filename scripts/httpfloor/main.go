// Command httpfloor is the reference for the single-request row of
// scripts/perf.sh: a bare net/http server, with the node's header and idle
// timeouts, that reads each POST /v1/txs body and answers 201 with a fixed
// body the size of the node's, and passes every other request (chain
// info, the event stream, metrics) to a real node, so that qbc bench runs
// against it unchanged. Its CPU per request is what net/http and the Go
// runtime cost on this machine with this client before any work of QBC's.
//
// usage: httpfloor LISTEN-ADDR NODE-ADDR
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: httpfloor LISTEN-ADDR NODE-ADDR")
		os.Exit(2)
	}
	node, err := url.Parse("http://" + os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	answer := []byte(`{"id":"` + strings.Repeat("0", 64) + `","status":"pending"}` + "\n")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/txs", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(answer)
	})
	mux.Handle("/", httputil.NewSingleHostReverseProxy(node))
	s := &http.Server{Addr: os.Args[1], Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Println("listening on", os.Args[1])
	log.Fatal(s.ListenAndServe())
}
