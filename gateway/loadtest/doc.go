// Package loadtest measures the gateway end to end, over real HTTP on
// loopback, with mock platforms counting what they receive:
//
//   - Run: deliveries, clients posting submissions to a gateway that
//     delivers them to the mock safe (`relais bench deliver`);
//   - RunLookup: profile lookups, open loop, each calling several mock
//     sources of fixed latencies in parallel; it reports Relais's overhead
//     over the slowest source (`relais bench lookup`, BenchmarkLookup).
//
// The figures go in reports, never in test assertions.
package loadtest
