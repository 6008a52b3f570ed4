// Package francetravail is the France Travail source of a profile lookup: a
// connectors.Puller over France Travail's partner APIs that returns a job
// seeker's registration (and the identity France Travail holds, for
// matching) and the payments made to them, in the canonical model.
//
// One pull makes these calls, each through the source's connectors.Stack
// (OAuth2 client credentials on the /partenaire realm with the token cached
// and refreshed once on a 401, rate limit, circuit breaker, retries of the
// reads, metrics, redacting logger):
//
//  1. POST /rechercher-usager/v2/usagers/par-datenaissance-et-nir with the
//     NIR (PullQuery.Person.INS) and the full birth date in the body, never
//     in the URL, and the agent headers. codeRetour S001 gives the person
//     token (jetonUsager); S002 (nobody) and S003 (several files) are
//     not_found, told apart by the error's Code.
//  2. For each operation asked, in parallel, with the person token in the
//     ft-jeton-usager header: GET /situation-usager/v1/inscription
//     (france_travail_statut) or GET /situation-usager/v1/paiements over the
//     last Config.PaymentMonths months (france_travail_indemnites). Each
//     answer is mapped by its spec in mapping/specs/francetravail, which
//     validates it against the platform's schema first: a field renamed,
//     removed or retyped is an error naming it, never an empty value.
//
// Both operations need the travail démarche of a mandate and the employment
// category of a consent, and run on identity traits only (no FranceConnect
// mode: the partner APIs take the NIR).
//
// The whole pull runs under Config.Deadline (45 s by default): the platform
// answers in seconds, tens of seconds at times, so the stack's per-try
// timeout defaults to the deadline rather than to its own 30 s. The source
// throttles itself to Config.Stack.RateLimit (3 requests per second, burst
// 1, by default), and after a 429 the stack holds every call until the
// Retry-After has passed.
//
// Every failure is an item's error, classified for connectors.OutcomeOf:
// the business error codes ({codeErreur, codeHttp, message}) and the token
// endpoint's OAuth2 errors set the error's Code and, where the status alone
// would mislead, its Outcome: INVALID_TOKEN, INSUFFICIENT_SCOPE, INVALID_NIR
// and refused credentials or scopes are refused; a person token that died
// between the search and the read is a Retryable error; a 404 is a route
// the platform does not know, an error, never a person not found. Pull
// itself fails, with connectors.ErrInvalidQuery, only for a query it cannot
// run: an unknown operation, no NIR or one whose key is wrong, a partial
// birth date.
//
// Neither the NIR nor the person token appears in a URL, a log line or an
// error's text; the client secret and the access token never leave the
// stack.
package francetravail
