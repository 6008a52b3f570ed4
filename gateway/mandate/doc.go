// Package mandate holds the legal bases on which Relais acts on a person's
// data: mandates held by a professional on the Aidants Connect model, and
// consents a citizen gives through FranceConnect.
//
// A mandate belongs to a tenant (the organisation), is held by one of its
// professionals, covers a set of démarches for 1, 31, 182 or 365 days, and
// is consented to in person (the attestation's SHA-256 is kept, never the
// document) or remotely by a 6-digit SMS code. The person's identity
// traits are sealed by the store; everything else refers to the person by
// a keyed hash of those traits, the person reference, so that neither a
// URL nor a log nor a journal entry ever carries an identity.
//
// A Caller is a tenant's API key or, in the professional space, one of
// its professionals signed in through ProConnect: the journal names the
// key or "pro:" and the professional's subject. A consent can be withdrawn
// (Consent.WithdrawnAt); ConsentStore journals its grant and withdrawal.
//
// Service is the one entry point: it validates, applies the lifecycle
// (create, confirm, revoke, renew, transfer) and checks every use with
// Authorize. Every change and every use, refused ones included, is written
// to the journal in the same transaction as the change, referencing the
// mandate id and the person reference. The Store interface is what the
// service needs of persistence; gateway/store implements it on SQLite and
// PostgreSQL.
package mandate
