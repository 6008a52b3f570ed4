// Package profile looks a person up on the platforms ("dites-le nous une
// fois"): POST /v1/profiles:lookup fetches what the CAF, the MSA and France
// Travail know of one person, under a mandate or a consent, and answers in
// the canonical model with the provenance of every value; GET
// /v1/profiles/{id} serves that answer, the prefill, for a short while.
//
// # The path of one lookup
//
//	Service.Lookup
//	  -> validate: exactly one basis, known sources and operations, a valid
//	     canonical identity (RequestError, with stable codes, otherwise)
//	  -> the basis, per operation:
//	     a mandate: mandate.Service.Decide checks every démarche the
//	       operations need in one read; the identity must be the
//	       mandate's person (the same person reference); the use events
//	       are journaled in one write before any platform is called, so
//	       a crash during the pull never leaves a call without its entry;
//	     a consent: in force, given by the person asked for, listing the
//	       source in its platforms and the operation's data category
//	       (mapping.DataCategory) in its categories; each check is
//	       journaled (consent.use), hash-chained and indexed by consent;
//	       its FranceConnect access token, while alive, goes to the
//	       operations that can use it (PullQuery.AccessToken)
//	     A refused operation is status refused with its reason; the others
//	     still run.
//	  -> every source with operations left runs in parallel under one
//	     deadline (Config.Deadline); one that misses it is timeout, one
//	     whose breaker is open unavailable, and so on (connectors.OutcomeOf)
//	  -> each returned identity is compared with the one asked
//	     (mapping.MatchIdentity): a mismatch is flagged on the source and
//	     on every value it returned, never merged
//	  -> the answer is sealed and stored with one journal entry per
//	     source (profile.pull: the outcome, the basis, the person
//	     reference, each operation's status; never a value), in one
//	     transaction, shared with concurrent lookups' (the store's group
//	     commit). If it cannot be stored, the lookup fails.
//
// After Config.TTL the prefill is gone: GET answers ErrExpired (410) while
// a tombstone without data remains (Config.GoneFor), then ErrNotFound
// (404). The store's periodic purge job erases the data (with SQLite's
// secure_delete, so no sealed copy survives in the file either) and the
// expired FranceConnect tokens; only the journal entries remain.
//
// The Store interface is what the service needs of persistence;
// gateway/store implements it on SQLite and PostgreSQL. profiletest gives
// tests a fake platform over HTTP and a Puller on the connectors' stack.
package profile
