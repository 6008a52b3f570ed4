// Package store persists everything the gateway accepts: tenants and their
// API keys, submissions with their sealed payloads and content, deliveries
// with their state and receipts, and the append-only journal.
//
// One Store type holds the SQL, written once; a backend supplies the
// connection and River client of one database: SQLite (embedded, the
// default, modernc.org/sqlite in WAL mode) or PostgreSQL (pgx). Submissions
// and their delivery jobs are committed in one transaction, so nothing is
// acknowledged that is not durable. The conformance suite in store_test.go
// runs against both.
package store
