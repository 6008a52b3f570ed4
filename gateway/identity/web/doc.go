// Package web is the browser side of Relais' sign-in: the /auth routes that
// send a person to an OpenID Provider and take them back, server-side
// sessions, CSRF protection of state-changing forms, the consent a citizen
// gives when signing in through FranceConnect, and the /compte page.
//
// The flow of one login, in the order the data moves:
//
//  1. GET /auth/{provider}/login?return_to=/compte: the relying party of
//     gateway/identity/oidc stores a pending login and returns the OP's
//     authorization URL; the handler sets the binding cookie and redirects.
//  2. The person signs in at the OP and comes back to
//     GET /auth/{provider}/callback: oidc.RelyingParty.Callback checks the
//     state, binding, tokens and userinfo. A failure is shown as a French
//     page with the error's French message (never a code alone).
//  3. On success the handler drops any session the browser had and creates a
//     new one (session rotation): a random 256-bit id in an HttpOnly,
//     SameSite=Lax cookie (Secure outside the sandbox), living as long as the
//     provider's own session (30 min FranceConnect, 10 min FranceConnect+,
//     12 h ProConnect), capped by Config.SessionTTL.
//  4. For a FranceConnect or FranceConnect+ login it records a
//     mandate.Consent: the person reference (a keyed hash of the identity
//     pivot), the tenant, the data categories and platforms, when and until
//     when. The FranceConnect access token stays in the session only until it
//     expires (a SessionStore must never return it after), and is never
//     part of the consent.
//     For a ProConnect login it binds the professional to the organisation
//     (tenant) registered with their siret claim (Deps.Organisation); a
//     SIRET no tenant has gets a French page with the stable code
//     organisation_not_registered and no session. The session keeps the
//     tenant, the sub, the name, the e-mail and the organisation's name,
//     and the professional joins the organisation's directory (the
//     colleagues a mandate may be transferred to).
//  5. It redirects to return_to, which must be a local path.
//
// On /compte a citizen sees the consents in force and withdraws one with a
// POST to /compte/consentements/{id}/retrait: the store sets withdrawn_at
// and journals withdraw_consent in one transaction; mandate.Consent.ActiveAt
// is false from then on; withdrawing the consent of the current login
// rotates the session without the provider's access token.
//
// The professional space, /pro (pro.go), is for ProConnect sessions only:
// server-rendered French pages that need no JavaScript, every POST checked
// against the session's synchronizer token. A professional searches their
// organisation's mandates for a person by posting the identity traits (the
// handler turns them into the person reference; no identity is ever in a
// URL), creates a mandate (démarches, 1/31/182/365 days, consent in person
// with the signed attestation, hashed as it streams in and never kept, or
// by SMS code, then a page to type the code), and revokes, renews or
// transfers one to a colleague of the directory. Every action goes through
// mandate.Service with the signed-in professional as the caller, so it is
// journaled as theirs (pro:<sub>); another organisation's mandate is 404.
// With Config.SandboxSMSOutbox (the sandbox only), /pro/sandbox/sms shows
// the organisation's last SMS, where a tester reads the codes.
//
// POST /auth/logout needs the session's synchronizer token (a hidden form
// field, compared in constant time), clears the session and sends the browser
// to the OP's end_session URL. GET /.well-known/jwks.json publishes Relais'
// public encryption keys (the JWKS URL registered at FranceConnect+).
//
// Sessions live behind the small SessionStore interface; Session is a plain
// struct a store may keep as sealed JSON. This package ships MemorySessions
// (bounded by a TTL and a size, for one replica and tests); the gateway wires
// a store-backed one so that several replicas share sessions. The package
// starts no goroutine.
package web
