// Package mapping owns Relais's canonical model and the mapping specs that
// translate it to and from each platform's schema.
//
// This first slice holds the canonical document deposit: a document for a
// beneficiary of a digital safe. The rest of the canonical model (person,
// household, benefits, stays, reports) grows here.
package mapping
