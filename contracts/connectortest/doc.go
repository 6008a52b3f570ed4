// Package connectortest is the conformance suite every connector passes
// against its mock, in the pattern of River's riverdrivertest.Exercise: a
// connector's test calls Run with a Harness that builds a fresh mock and
// connector pair, and the suite drives the mock's faults (mocks/platform)
// and checks the connector runtime's reaction to each: retry, breaker and
// failure classification, and never a duplicate delivery. Run's
// documentation lists every subtest and the decisions it enforces.
//
// It also holds the helpers that run a contract's checks against its mock
// (MockTarget, VerifyMock, RequirePass).
//
// It imports testing, so only tests import it.
package connectortest
