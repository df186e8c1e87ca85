// Package httpapi serves QBC's HTTP API: the seed's routes (/inject, /leap,
// /json-chain, /chain, /stats, /discover) with the seed's request forms and
// response shapes, the versioned /v1 resources, server-sent events, the
// OpenAPI document, Prometheus metrics and guarded profiling.
//
// It is the only package that knows HTTP status codes: one table
// (errorTable, errors.go) maps every error, a rule's code or a sentinel
// (ErrNotFound, ErrNotSupported, ErrBadRequest, ErrRetry, mempool.ErrFull,
// ...), to one code and status, and every error goes out in one JSON shape
// (api.Error). The node wraps its sentinels with the detail the client
// reads: fmt.Errorf("%w: quant %s is not stored here", httpapi.ErrNotFound, h).
package httpapi
