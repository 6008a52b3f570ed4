// Package gateway assembles the Relais server: configuration, the store,
// the connectors, the delivery workers and the HTTP API, with one
// Start/Stop lifecycle. cmd/relais and the end-to-end tests build it the
// same way.
//
// A request's path, in the order the data flows: api (decode, validate,
// authenticate) → store.CreateSubmission (one transaction: submission,
// sealed content, deliveries, River jobs, journal) → delivery.Worker (one
// attempt) → connectors/<platform> (transport stack) → the platform.
package gateway
