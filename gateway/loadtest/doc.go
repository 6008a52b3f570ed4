// Package loadtest measures the gateway end to end: a gateway and the mock
// safe on loopback, clients posting submissions over real HTTP, and the
// mock counting what it receives. `relais bench deliver` and the Go
// benchmarks use it; the figures go in reports, never in test assertions.
package loadtest
