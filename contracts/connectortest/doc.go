// Package connectortest is the conformance suite every connector passes
// against its mock, in the pattern of River's riverdrivertest.Exercise: a
// connector's test calls Run with a Harness that builds a fresh mock and
// connector pair, and the suite drives the mock's faults (mocks/platform)
// and checks the connector runtime's reaction to each: retry, breaker and
// failure classification, and never a duplicate delivery. Run's
// documentation lists every subtest and the decisions it enforces.
//
// Pullers (connectors.Puller, the sources of a profile lookup) pass their
// own suite: RunPull with a PullHarness, on the same transport stack and
// faults. It checks the canonical outcome of every situation
// (connectors.OutcomeOf): the data and its provenance, an unknown person,
// timeouts, rate limits and their Retry-After, outages and the breaker,
// schema drift, and that no credential or personal value reaches a log.
//
// It also holds the helpers that run a contract's checks against its mock
// (MockTarget, VerifyMock, RequirePass).
//
// It imports testing, so only tests import it.
package connectortest
