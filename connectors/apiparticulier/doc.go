// Package apiparticulier pulls what the CAF, the MSA and France Travail
// know of a person through API Particulier v3, the State's gateway: a
// connectors.Puller for the profile lookup ("dites-le nous une fois").
//
// # Operations
//
// Each operation declares the démarche a mandate must cover and the data
// category a consent must list (connectors.PullOperation):
//
//	operation                        route                                      démarche  category
//	quotient_familial                /v3/dss/quotient_familial/…                famille   household
//	participation_familiale_eaje     /v3/dss/participation_familiale_eaje/…     famille   household
//	allocation_soutien_familial      /v3/dss/allocation_soutien_familial/…      famille   benefit
//	allocation_enfant_handicape      /v3/dss/allocation_enfant_handicape/…      famille   benefit
//	revenu_solidarite_active         /v3/dss/revenu_solidarite_active/…         social    benefit
//	prime_activite                   /v3/dss/prime_activite/…                   social    benefit
//	allocation_adulte_handicape      /v3/dss/allocation_adulte_handicape/…      social    benefit
//	complementaire_sante_solidaire   /v3/dss/complementaire_sante_solidaire/…   social    benefit
//	france_travail_statut            /v3/france_travail/statut/identifiant      travail   employment
//	france_travail_indemnites        /v3/france_travail/indemnites/identifiant  travail   employment
//
// Why these démarches, in the Aidants Connect sense a mandate uses them:
// "famille" covers the family benefits and what depends on the family's
// composition, so the quotient familial (the family's file, which sets
// social tariffs), the crèche fee figures, the ASF (a parent raising a child
// alone) and the AEEH (in law a family benefit, paid for a child) belong to
// it. "social" covers the minimum income and disability benefits and health
// cover, so the RSA, the prime d'activité (the activity supplement the CAF
// pays with the RSA's rules), the AAH (an adult's own disability benefit,
// not a family one) and the complémentaire santé solidaire. "travail"
// covers France Travail: the registration as a job seeker and its payments.
// None is "argent", which is about taxes and budget.
//
// Why these categories: the quotient familial and the crèche figures come
// with the household's composition (allocataires, children, address), the
// most a consent can give, so they need "household"; the statuses are
// "benefit"; both France Travail routes are what France Travail knows of the
// person as a job seeker, payments included, so "employment".
//
// Config.Operations limits them to what the token's habilitation covers.
//
// # Modes
//
// The CAF/MSA operations run in one of the platform's two modes:
//
//   - identite, by default: GET /v3/dss/<operation>/identite with the
//     tenant's platform token as the bearer and the identity traits of
//     PullQuery.Person, mapped by mapping/specs/apiparticulier/
//     identite.outbound.yaml to the platform's exact parameters
//     (nomNaissance, nomUsage, prenoms[] repeated, one to three,
//     anneeDateNaissance, moisDateNaissance, jourDateNaissance for the known
//     parts of the birth date, sexeEtatCivil, codeCogInseePaysNaissance,
//     codeCogInseeCommuneNaissance for a person born in France);
//   - france_connect, when PullQuery.AccessToken is set: GET
//     /v3/dss/<operation>/france_connect with the citizen's FranceConnect
//     access token as the bearer, and no identity parameter (the platform
//     asks FranceConnect who the citizen is).
//
// Every call carries recipient, the SIRET of PullQuery.Recipient. The
// quotient familial takes annee and mois from PullQuery.Month. The France
// Travail operations take the person's France Travail identifier, a
// PullQuery.Person identifier of system FranceTravailIDSystem, and always
// use the platform token.
//
// Pull runs the operations asked for concurrently. A query that cannot run
// at all (no valid recipient, an unknown operation, nothing to identify the
// person with for every operation asked) fails with
// connectors.ErrInvalidQuery and no call; when only some operations lack
// their input (an identity the parameters cannot express, no France Travail
// identifier), their items carry a Permanent error of outcome "error".
//
// # Answers
//
// Every answer is mapped through the operation's spec,
// mapping/specs/apiparticulier/<operation>.inbound.yaml, which checks it
// against the platform's schema and the result against the canonical model:
// the quotient familial and the crèche figures give a mapping.Household and
// a mapping.Benefit, the statuses a mapping.Benefit, France Travail a
// mapping.EmploymentRegistration or mapping.Payments. The identity the
// platform returns goes to PullItem.Identity for matching: the allocataire
// who agrees best with the person asked about (the quotient familial, the
// crèche figures), or the identity France Travail holds. The status routes
// return none.
//
// An answer that is not JSON is a Retryable error; one the schemas refuse,
// the platform's contract changing, a Permanent one. Both have the outcome
// "error" and name the fields at fault, never their values.
//
// # Errors
//
// A refusal comes back as a *connectors.Error keeping the platform's body,
// with the platform's code in Code and its canonical outcome in Outcome
// (connectors.OutcomeOf); its Class follows the outcome (Retryable for
// unavailable, timeout and rate_limited, NotFound for not_found, Permanent
// otherwise):
//
//	00101 00103 00105   token invalid, expired, blacklisted (401)   refused
//	00100               token without the scope (403)               refused
//	00203 00210         recipient missing, not a SIRET (422)        refused
//	00366 00380         identity or identifier malformed (422)      error
//	00429               too many requests (429)                     rate_limited
//	00015               the same request in progress (409)          rate_limited
//	37003 23003 10003   nobody at the CNAV, CNAF, MSA (404)         not_found
//	35003 40003         not referenced by the funds, RNCPS (404)    not_found
//	37001 37004 37999   provider down, DNS, unknown error (5xx)     unavailable
//	00501               network between platform and provider       unavailable
//	37002               provider timeout (504)                      timeout
//	37008               provider rate limited (504)                 rate_limited
//	24001 24004 24999   France Travail down, DNS, unknown error     unavailable
//	24002               France Travail timeout (504)                timeout
//	24003               nobody at France Travail (404)              not_found
//
// An unknown code keeps the class of its HTTP status and OutcomeOf decides
// from the status. An open breaker is a *connectors.BreakerOpenError
// (unavailable); a try never sent because the rate limit's wait would
// outlast the deadline is rate_limited. A 10003 sets the item's Provider to
// the MSA.
//
// # Rate limit
//
// The platform allows 20 requests per second per token, and bans for 12
// hours callers that ignore its 429s. The token's stack keeps to
// DefaultRequestsPerSecond (18) with a burst of 1 (see the constant); with
// connectors.Deps.Reserver set (the PostgreSQL store), every try of every
// Relais process using the token books its slot there, under a key derived
// from a hash of the token, so the limit holds across processes; otherwise
// the stack's in-process bucket keeps it. Each process also honours the
// platform's own word, from the answers it gets: after a 429 (Retry-After)
// or an answer with RateLimit-Remaining: 0 (until RateLimit-Reset, a Unix
// time on this platform), its later tries wait for the reset rather than be
// sent, or fail at once, unsent and rate_limited, when their deadline comes
// first. The /france_connect calls,
// counted by the platform per citizen's token, keep to their own stack's
// in-process bucket.
//
// The platform also allows 1000 requests per minute per IP address, less
// than 20 per second sustained: a process sending more than about 16
// requests per second for over a minute gets its 429s, which the stack
// honours as above.
//
// # Cache
//
// The platform keeps CAF/MSA answers 24 hours. The connector sends
// Cache-Control: no-cache only when PullQuery.Fresh asks for fresh data,
// reads X-Response-Cached into PullItem.Cached and, from
// X-Cache-Expires-in (the seconds left) and Config.CacheTTL, sets
// PullItem.FetchedAt to when the platform fetched the answer from the
// provider; a fresh answer was fetched now, by the connector's clock.
//
// # Personal data
//
// The platform takes the identity in the query string; the stack's logger
// and every error drop query strings, and errors quote no value of an
// answer.
package apiparticulier
