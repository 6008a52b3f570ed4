// Package apiparticulier is a stateful mock of API Particulier v3: the
// CAF/MSA routes (`/v3/dss/<benefit>/identite` and
// `/v3/dss/<benefit>/france_connect` for the quotient familial, the crèche
// fee figures, the prime d'activité, the RSA, the AAH, the AEEH, the ASF and
// the complémentaire santé solidaire) and the France Travail routes
// (`/v3/france_travail/statut/identifiant`,
// `/v3/france_travail/indemnites/identifiant`). It obeys the contract of
// contracts/apiparticulier and runs on the shared runtime of mocks/platform.
//
// A *Server is an http.Handler: wrap it in httptest.NewServer in unit tests,
// or mount it in `relais mocks` (New(Options{}) gives the sandbox).
//
// # The path of one request
//
//	platform.Server (server.go: New wires it)
//	  -> faults, 1000 requests per minute per IP address, authenticate
//	     (server.go: tokens and scopes, or the FranceConnect citizen), 20
//	     requests per second per token, validation against the contract;
//	     refusals written by writeProblem (errors.go) in the platform's
//	     format
//	  -> dssHandler (dss.go) or franceTravail* (francetravail.go): the
//	     recipient's SIRET, the identity (identity.go: parameters, or the
//	     citizen authenticate resolved, read with platform.Principal),
//	     trigger identities, the 24 h cache (cache.go), the household
//	     (dataset.go), the answer rendered from the fixtures
//	  -> the runtime checks the answer against the contract
//	     (Stats().ResponseViolations) and sends it.
//
// # Fixtures
//
// The sandbox's people are in fixtures/*.json, in Relais' own form, built
// from every case of the platform's own sandbox (its staging data): the
// same identities, households, quotients familiaux and France Travail
// situations, so that a connector tested here behaves the same on the
// platform's staging. Answers are rendered from these households, never
// stored whole. Relais added (designed) what the platform's sandbox lacks:
// the crèche fee figures, the AEEH, ASF and C2S rights of some households,
// an older quotient familial for DUPONT SOPHIE, payments for 123456A.
//
//   - households.json: CAF/MSA files (Household): allocataires, children,
//     address, quotients familiaux by month, rights by benefit.
//   - sandbox.json: the identity each sandbox case sends, per operation,
//     and the household it selects (the platform's sandbox selects a case by
//     its exact parameters; a few of its cases send names with typos, or
//     answer with a household whose members differ from the query).
//   - france_travail.json: job seekers by France Travail identifier, with
//     their registration and payments.
//   - franceconnect.json: the sandbox's FranceConnect access tokens and
//     their citizens (below).
//
// testdata/sandbox holds the platform's cases themselves (parameters,
// status, body), imported once by TestImportSandbox; TestSandboxCases sends
// each one to the mock and compares the answers.
//
// # Finding a person
//
// On the CAF/MSA routes, an identity selects a household this way:
//
//  1. A sandbox case of the same operation with the same identity (names
//     compared in upper case, without accents, hyphens or apostrophes,
//     spaces collapsed) selects its household.
//  2. Otherwise the first household, in lookup order (those SetHousehold
//     added, latest first, then Options.Households, then the sandbox's; a
//     household SetHousehold replaces keeps its place), one of whose
//     allocataires matches: same birth name and sex; the first names asked
//     are the allocataire's, or their first ones in order; the year of birth
//     is given and equal; month and day equal when both are known; the
//     country and commune of birth equal when the allocataire's are known (a
//     commune given by nomCommuneNaissance and
//     codeCogInseeDepartementNaissance is resolved among a few communes of
//     the fixtures; another name finds nobody). nomUsage is not compared.
//  3. Nobody: 404, code 37003 (CNAV) or 40003 (RNCPS) for the C2S.
//
// A household that has no quotient familial in force on the month asked
// answers 404 with 23003 (CNAF) or 10003 (MSA); one without crèche figures
// answers 404 37003 on the EAJE routes; a benefit the household has no
// record of is answered as not received (est_beneficiaire false,
// status non_beneficiaire).
//
// The quotient familial in force on a month is the last one on file that
// took effect on or before it; without annee and mois, the current month by
// Options.Now. A month in the future or more than Options.History (24)
// months back gets 422 00366 naming annee or mois.
//
// # Identities that fail on purpose
//
// Whatever their other parameters, these birth names and first names make
// every CAF/MSA route fail, like on the platform's sandbox:
//
//	DESFOUIN René        429 00429 (with Retry-After)
//	DELANOUE Jean-Marie  502 37999
//	SITUDI Clément       504 37002
//	PANNE CNAV           504 37001 (Relais)
//	SATURATION CNAV      504 37008 (Relais)
//
// and these France Travail identifiers (Relais): erreur_fournisseur 502
// 24999, indisponible 504 24001, hors_delai 504 24002. Unknown identifiers,
// such as the sandbox's not_found and inconnu, get 404 24003, and a person
// France Travail paid nothing gets 404 24003 on the indemnites route.
//
// # Tokens
//
// The platform's tokens accepted are Options.Tokens, by default DefaultToken
// (every operation), RestrictedToken (quotient_familial.identite only:
// others answer 403 00100), ExpiredToken (401 00103) and BlacklistedToken
// (401 00105); any other bearer, or none, gets 401 00101.
//
// On the `/france_connect` routes the bearer is a FranceConnect access
// token, resolved by Options.FranceConnect when the call is authenticated,
// before its parameters are checked: an unknown token gets 401 00101, even
// with a missing recipient. By default the sandbox's FranceConnect tokens
// are known:
//
//	all_cnav, cnaf_qfv2, cnaf_eaje   Georges CNAF (nom d'usage MARTIN), born 2002-01-01
//	all_fc                           Thomas Delatour (answers Georges' quotient familial, like the platform's sandbox)
//	fc_dubois_angela                 Angela Claire Louise DUBOIS, born 1962-08-24
//	fc_mercier_pierre                Pierre MERCIER, born 1969-03-17
//	fc_huche_anne_laure              Anne-Laure HUCHE, born 1945-09-30
//	fc_trois_dupre_melissandre       Melissandre Juliette TROIS-DUPRE, born 1981-07-27
//	fc_dupont_paul                   Paul Louis DUPONT, born 1962-08-24
//	fc_delalalalande_emmanuel        Emmanuel Alexandre Nicolas DELALALALANDE, born 1991-01-07
//	fc_penderie_fabien               FABIEN PENDERIE, born 1986-03-25
//	fc_placard_elsa                  ELSA PLACARD (MSA), born 1987-04-13
//	fc_commode_cindy                 CINDY COMMODE (MSA), born 1980-06-27
//	fc_inconnu                       a LEFEBVRE nobody knows: 404
//
// The first four are the platform's own sandbox tokens; the others are
// Relais' names for the platform's other FranceConnect cases. A later
// FranceConnect mock plugs in through Options.FranceConnect.
//
// # Cache
//
// A successful CAF/MSA answer is kept Options.CacheTTL (24 h) for the same
// operation, identity and month, whatever the token: a repeated query gets
// it again with `X-Response-Cached: true` and `X-Cache-Expires-in` the
// seconds left, even if the household changed since (SetHousehold).
// `Cache-Control: no-cache` reads the household afresh, without refreshing
// the cache; such answers, like first ones, carry `X-Response-Cached: false`
// and an empty `X-Cache-Expires-in`.
//
// # Rate limits
//
// As on the platform, two limits apply to every operation:
// Options.IPRateLimit (1000 requests per minute per client IP address)
// before authentication, then Options.RateLimit (20 requests per second per
// token, or per FranceConnect access token). Over either, the answer is 429
// 00429 with Retry-After. The answers carry RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset, the Unix time (in seconds,
// rounded up) the window ends, as the platform sends it: the per-token
// window's on answers to authenticated calls, the per-IP window's on 401
// and 403 and on the 429 of the per-IP limit. A refused token counts
// against its IP address only.
//
// # Differences with the platform
//
// The 409 (00015, the same request still in progress) is documented but
// never answered. Reset (or POST /_mock/reset) clears the runtime's state,
// the cache and the households set by SetHousehold.
//
// The server starts no goroutine of its own.
package apiparticulier
