// Package engine runs Relais's declarative mapping specs: YAML files, one per
// platform operation and direction, that say how a platform's payload becomes
// the canonical model (inbound) or the canonical model becomes what a
// platform expects (outbound).
//
// A spec is compiled once, at start-up, into a [Plan]; a spec with a problem
// never loads, and [LoadError] lists every problem with its line and column.
// Compiling parses every path, compiles every CEL expression, rejects an
// expression whose estimated cost may exceed the limit, and checks that the
// spec reads nothing outside its reads declaration.
//
// [Plan.Run] maps one payload: it validates the input against the input
// schema, keeps only the declared reads (everything else is dropped before
// any rule sees it, and reported as dropped), applies the rules in order,
// validates the output against the output schema, and tags inbound values
// with their [Provenance]. Mapping errors are [Error] values that name the
// path, the rule and a stable code, with a French message that never quotes
// personal data.
//
// The spec format is described in mapping/specs/README.md.
package engine
