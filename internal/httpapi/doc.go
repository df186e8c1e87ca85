// Package httpapi serves QBC's HTTP API: the seed's routes (/inject, /leap,
// /json-chain, /chain, /stats, /discover) with the seed's request forms and
// response shapes, the versioned /v1 resources, server-sent events, the
// OpenAPI document, Prometheus metrics and guarded profiling.
//
// It is the only package that knows HTTP status codes: statusOf maps every
// error code to one status, and every error goes out in one JSON shape
// (api.Error).
package httpapi
