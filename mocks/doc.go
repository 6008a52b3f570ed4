// Package mocks holds Relais's mock platforms, one package each
// (mocks/coffrefort, ...), reused by unit tests through httptest, by the
// contract suites, and by `relais sandbox`. This package runs them on real
// loopback ports.
package mocks
