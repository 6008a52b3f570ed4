// Package api is the gateway's HTTP API v1: tenants authenticate with a
// bearer API key, submit payloads once with an idempotency key, follow each
// delivery, replay failed ones, and watch connectors. Operators get
// /healthz, /readyz and /metrics.
//
// The API is described by openapi.yaml (OpenAPI 3.1), served as JSON at
// /v1/openapi.json; tests check every handler against it. Every error is an
// RFC 9457 problem written by one function, the one place that logs it.
package api
