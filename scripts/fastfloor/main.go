// Command fastfloor is scripts/httpfloor on fasthttp instead of net/http:
// it reads each POST /v1/txs body and answers 201 with a fixed body the
// size of the node's, and passes every other request (chain info, the
// event stream, metrics) to a real node, streaming the answer, so that
// qbc bench runs against it unchanged. Its CPU per request is what a
// server other than net/http would cost before any work of QBC's: the
// figure the owner weighs against net/http's for the single-request
// target of issue 16 (docs/performance.md).
//
// It is a module of its own so that fasthttp stays out of the node's
// dependencies. Build and run it from this directory:
//
//	go build -o /tmp/fastfloor . && /tmp/fastfloor LISTEN-ADDR NODE-ADDR
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fastfloor LISTEN-ADDR NODE-ADDR")
		os.Exit(2)
	}
	node := "http://" + os.Args[2]
	answer := []byte(`{"id":"` + strings.Repeat("0", 64) + `","status":"pending"}` + "\n")
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if ctx.IsPost() && string(ctx.Path()) == "/v1/txs" {
				_ = ctx.PostBody()
				ctx.SetContentType("application/json")
				ctx.SetStatusCode(http.StatusCreated)
				ctx.Write(answer)
				return
			}
			pass(ctx, node)
		},
		ReadTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute,
	}
	fmt.Println("listening on", os.Args[1])
	log.Fatal(s.ListenAndServe(os.Args[1]))
}

// pass forwards the request to the node and streams its answer back,
// flushing after every read so that the event stream's lines arrive as
// the node writes them.
func pass(ctx *fasthttp.RequestCtx, node string) {
	req, err := http.NewRequest(string(ctx.Method()), node+string(ctx.RequestURI()), bytes.NewReader(ctx.PostBody()))
	if err != nil {
		ctx.Error(err.Error(), http.StatusBadRequest)
		return
	}
	for k, v := range ctx.Request.Header.All() {
		req.Header.Add(string(k), string(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ctx.Error(err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			ctx.Response.Header.Add(k, v)
		}
	}
	ctx.SetStatusCode(resp.StatusCode)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer resp.Body.Close()
		b := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(b)
			w.Write(b[:n])
			if w.Flush() != nil || err != nil {
				return
			}
		}
	})
}
