package apiparticuliercontract

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/relais-dev/relais/contracts"
)

// Name is the platform's name in `relais contracts verify --target apiparticulier=URL`.
const Name = "apiparticulier"

// The credentials a real target needs.
const (
	// EnvToken holds the platform's token (the sandbox's, for staging).
	EnvToken = "RELAIS_CONTRACT_APIPARTICULIER_TOKEN"
	// EnvFranceConnectToken holds a FranceConnect access token of a
	// citizen the CAF/MSA routes know (the sandbox's `all_cnav`, for
	// staging).
	EnvFranceConnectToken = "RELAIS_CONTRACT_APIPARTICULIER_FC_TOKEN"
)

// The tokens our mock (mocks/apiparticulier) accepts, and the SIRET the
// cases send as recipient.
const (
	// MockToken is the mock's sandbox token: every operation.
	MockToken = "relais-sandbox-api-particulier"
	// MockFranceConnectToken is a FranceConnect access token the mock knows
	// (Georges CNAF); the platform's own sandbox has it too.
	MockFranceConnectToken = "all_cnav"
	// MockExpiredToken, MockBlacklistedToken and MockRestrictedToken are
	// refused with 00103, 00105, and 00100 outside
	// quotient_familial.identite.
	MockExpiredToken     = "relais-sandbox-api-particulier-expired"
	MockBlacklistedToken = "relais-sandbox-api-particulier-blacklisted"
	MockRestrictedToken  = "relais-sandbox-api-particulier-qf-only"
	// SandboxRecipient is a valid SIRET (the platform's documentation uses
	// it).
	SandboxRecipient = "13002526500013"
)

// Platform is what `relais contracts verify` checks on API Particulier.
// Cases that rely on the mock's own fixtures (designed by Relais: the
// benefits the platform's sandbox has no case for, the trigger identities
// of Relais, the special tokens) are MockOnly; the others use identities of
// the platform's own sandbox and run against it too.
func Platform() contracts.Platform {
	return contracts.Platform{
		Name: Name,
		Spec: Spec(),
		Credentials: []contracts.Credential{
			{Env: EnvToken, MockDefault: MockToken, Secret: true},
			{Env: EnvFranceConnectToken, MockDefault: MockFranceConnectToken, Secret: true},
		},
		Authorize: authorize,
		Cases:     cases(),
	}
}

// authorize sends the platform's token, or on the `/france_connect` routes
// the citizen's FranceConnect token.
func authorize(_ context.Context, _ contracts.Target, creds map[string]string) (contracts.Authorizer, error) {
	token, fc := creds[EnvToken], creds[EnvFranceConnectToken]
	return func(r *http.Request) {
		t := token
		if strings.HasSuffix(r.URL.Path, "/france_connect") {
			t = fc
		}
		r.Header.Set("Authorization", "Bearer "+t)
	}, nil
}

// person is an identity of the sandbox, as query parameters.
type person struct {
	nom     string
	usage   string
	prenoms []string
	annee   int
	mois    int
	jour    int
	sexe    string
	pays    string
	commune string
}

func (p person) query() url.Values {
	q := url.Values{"recipient": {SandboxRecipient}, "nomNaissance": {p.nom}, "prenoms[]": p.prenoms,
		"sexeEtatCivil": {p.sexe}, "codeCogInseePaysNaissance": {p.pays}}
	if p.usage != "" {
		q.Set("nomUsage", p.usage)
	}
	for k, v := range map[string]int{"anneeDateNaissance": p.annee, "moisDateNaissance": p.mois, "jourDateNaissance": p.jour} {
		if v != 0 {
			q.Set(k, strconv.Itoa(v))
		}
	}
	if p.commune != "" {
		q.Set("codeCogInseeCommuneNaissance", p.commune)
	}
	return q
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func with(q url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
			continue
		}
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// cases are the checks: at least one success per operation, from the
// contract's examples or the sandbox's people, and the documented errors.
func cases() []contracts.Case {
	const (
		ok            = http.StatusOK
		unauthorized  = http.StatusUnauthorized
		forbidden     = http.StatusForbidden
		notFound      = http.StatusNotFound
		unprocessable = http.StatusUnprocessableEntity
		tooMany       = http.StatusTooManyRequests
		badGateway    = http.StatusBadGateway
		timeout       = http.StatusGatewayTimeout
	)
	// The sandbox's people (the platform's own sandbox has them).
	lefebvre := person{nom: "LEFEBVRE", prenoms: []string{"ALEXIS", "GÉRÔME", "JEAN-PHILIPPE"}, annee: 1982, mois: 12, jour: 27, sexe: "F", pays: "99100", commune: "08480"}
	martinMSA := person{nom: "Martin", prenoms: []string{"Pierre"}, annee: 1987, mois: 6, jour: 27, sexe: "M", pays: "99100", commune: "51108"}
	fakir := person{nom: "FAKIR", prenoms: []string{"EYMEN", "MOHAMED"}, annee: 1992, mois: 11, jour: 14, sexe: "M", pays: "99350"}
	martinSamuel := person{nom: "MARTIN", prenoms: []string{"SAMUEL"}, annee: 1980, mois: 9, jour: 20, sexe: "M", pays: "99100", commune: "08480"}
	lagaffe := person{nom: "LAGAFFE", prenoms: []string{"GASTON"}, annee: 1980, mois: 9, jour: 20, sexe: "M", pays: "99100", commune: "08480"}
	martinRichard := person{nom: "MARTIN", usage: "DUPONT", prenoms: []string{"PIERRE", "RICHARD"}, annee: 1987, mois: 12, jour: 1, sexe: "M", pays: "99100", commune: "08480"}
	giraud := person{nom: "GIRAUD", prenoms: []string{"ANNE"}, annee: 1988, mois: 12, jour: 1, sexe: "F", pays: "99100", commune: "13002"}
	unknown := person{nom: "DUBOCHE", prenoms: []string{"JEROME"}, annee: 2002, mois: 12, jour: 5, sexe: "M", pays: "99100", commune: "08480"}
	desfouin := person{nom: "DESFOUIN", prenoms: []string{"René"}, annee: 2002, mois: 12, jour: 5, sexe: "M", pays: "99100", commune: "08480"}
	delanoue := person{nom: "DELANOUE", prenoms: []string{"Jean-Marie"}, annee: 2002, mois: 12, jour: 5, sexe: "M", pays: "99100", commune: "08480"}
	situdi := person{nom: "SITUDI", prenoms: []string{"Clément"}, annee: 2002, mois: 12, jour: 5, sexe: "M", pays: "99100", commune: "08480"}
	// Relais' own trigger identities (mocks/apiparticulier).
	panne := person{nom: "PANNE", prenoms: []string{"CNAV"}, annee: 2000, sexe: "M", pays: "99100", commune: "75056"}
	saturation := person{nom: "SATURATION", prenoms: []string{"CNAV"}, annee: 2000, sexe: "M", pays: "99100", commune: "75056"}
	recipientOnly := url.Values{"recipient": {SandboxRecipient}}
	cs := []contracts.Case{
		// Quotient familial, by civil status.
		{Name: "quotient_familial.identite.cnaf", Operation: "quotient_familial.identite", Status: ok},
		{Name: "quotient_familial.identite.msa", Operation: "quotient_familial.identite", Status: ok, Query: martinMSA.query()},
		{Name: "quotient_familial.identite.accents_and_compound_names", Operation: "quotient_familial.identite", Status: ok, Query: lefebvre.query()},
		{Name: "quotient_familial.identite.born_abroad", Operation: "quotient_familial.identite", Status: ok, Query: fakir.query()},
		{Name: "quotient_familial.identite.no_cache", Operation: "quotient_familial.identite", Status: ok, Query: lefebvre.query(),
			Header: http.Header{"Cache-Control": {"no-cache"}}},
		{Name: "quotient_familial.identite.unknown_person", Operation: "quotient_familial.identite", Status: notFound, Query: unknown.query()},
		{Name: "quotient_familial.identite.no_recipient", Operation: "quotient_familial.identite", Status: unprocessable, Query: with(lefebvre.query(), "recipient", "")},
		{Name: "quotient_familial.identite.recipient_not_a_siret", Operation: "quotient_familial.identite", Status: unprocessable, Query: with(lefebvre.query(), "recipient", "13002526500014")},
		{Name: "quotient_familial.identite.no_first_name", Operation: "quotient_familial.identite", Status: unprocessable, Query: with(lefebvre.query(), "prenoms[]", "")},
		{Name: "quotient_familial.identite.born_in_france_without_commune", Operation: "quotient_familial.identite", Status: unprocessable, Query: with(lefebvre.query(), "codeCogInseeCommuneNaissance", "")},
		{Name: "quotient_familial.identite.month_in_the_future", Operation: "quotient_familial.identite", Status: unprocessable, Query: with(lefebvre.query(), "annee", "2100", "mois", "1"), MockOnly: true},
		{Name: "quotient_familial.identite.invalid_token", Operation: "quotient_familial.identite", Status: unauthorized, Auth: contracts.AuthInvalid},
		{Name: "quotient_familial.identite.expired_token", Operation: "quotient_familial.identite", Status: unauthorized, Header: bearerHeader(MockExpiredToken), MockOnly: true},
		{Name: "quotient_familial.identite.blacklisted_token", Operation: "quotient_familial.identite", Status: unauthorized, Header: bearerHeader(MockBlacklistedToken), MockOnly: true},
		{Name: "quotient_familial.identite.provider_rate_limit_trigger", Operation: "quotient_familial.identite", Status: tooMany, Query: desfouin.query()},
		{Name: "quotient_familial.identite.provider_error_trigger", Operation: "quotient_familial.identite", Status: badGateway, Query: delanoue.query()},
		{Name: "quotient_familial.identite.provider_timeout_trigger", Operation: "quotient_familial.identite", Status: timeout, Query: situdi.query()},
		{Name: "quotient_familial.identite.provider_unavailable_trigger", Operation: "quotient_familial.identite", Status: timeout, Query: panne.query(), MockOnly: true},
		{Name: "quotient_familial.identite.provider_saturated_trigger", Operation: "quotient_familial.identite", Status: timeout, Query: saturation.query(), MockOnly: true},

		// Quotient familial through FranceConnect.
		{Name: "quotient_familial.france_connect.cnaf", Operation: "quotient_familial.france_connect", Status: ok, Query: recipientOnly},
		{Name: "quotient_familial.france_connect.invalid_token", Operation: "quotient_familial.france_connect", Status: unauthorized, Query: recipientOnly, Auth: contracts.AuthInvalid},
		{Name: "quotient_familial.france_connect.no_recipient", Operation: "quotient_familial.france_connect", Status: unprocessable, Query: url.Values{}},

		// Crèche fee figures (no case in the platform's sandbox: Relais' fixtures).
		{Name: "participation_familiale_eaje.identite.found", Operation: "participation_familiale_eaje.identite", Status: ok, MockOnly: true},
		{Name: "participation_familiale_eaje.identite.no_figures", Operation: "participation_familiale_eaje.identite", Status: notFound, Query: lefebvre.query(), MockOnly: true},
		{Name: "participation_familiale_eaje.france_connect.found", Operation: "participation_familiale_eaje.france_connect", Status: ok, Query: recipientOnly, MockOnly: true},

		// Prime d'activité and RSA.
		{Name: "prime_activite.identite.with_increase", Operation: "prime_activite.identite", Status: ok, Query: martinSamuel.query()},
		{Name: "prime_activite.identite.example", Operation: "prime_activite.identite", Status: ok, MockOnly: true},
		{Name: "prime_activite.identite.unknown_person", Operation: "prime_activite.identite", Status: notFound, Query: unknown.query()},
		{Name: "prime_activite.identite.restricted_token", Operation: "prime_activite.identite", Status: forbidden, Query: martinSamuel.query(), Header: bearerHeader(MockRestrictedToken), MockOnly: true},
		{Name: "prime_activite.france_connect.citizen", Operation: "prime_activite.france_connect", Status: ok, Query: recipientOnly},
		{Name: "revenu_solidarite_active.identite.with_increase", Operation: "revenu_solidarite_active.identite", Status: ok, Query: martinSamuel.query()},
		{Name: "revenu_solidarite_active.identite.not_receiving", Operation: "revenu_solidarite_active.identite", Status: ok, Query: lagaffe.query()},
		{Name: "revenu_solidarite_active.identite.unknown_person", Operation: "revenu_solidarite_active.identite", Status: notFound, Query: unknown.query()},
		{Name: "revenu_solidarite_active.identite.provider_timeout_trigger", Operation: "revenu_solidarite_active.identite", Status: timeout, Query: situdi.query()},
		{Name: "revenu_solidarite_active.france_connect.citizen", Operation: "revenu_solidarite_active.france_connect", Status: ok, Query: recipientOnly},

		// AAH, AEEH, ASF, C2S.
		{Name: "allocation_adulte_handicape.identite.receiving", Operation: "allocation_adulte_handicape.identite", Status: ok, Query: martinRichard.query()},
		{Name: "allocation_adulte_handicape.identite.unknown_person", Operation: "allocation_adulte_handicape.identite", Status: notFound, Query: unknown.query()},
		{Name: "allocation_adulte_handicape.identite.provider_error_trigger", Operation: "allocation_adulte_handicape.identite", Status: badGateway, Query: delanoue.query()},
		{Name: "allocation_adulte_handicape.france_connect.citizen", Operation: "allocation_adulte_handicape.france_connect", Status: ok, Query: recipientOnly},
		{Name: "allocation_enfant_handicape.identite.receiving", Operation: "allocation_enfant_handicape.identite", Status: ok, Query: giraud.query(), MockOnly: true},
		{Name: "allocation_enfant_handicape.identite.example", Operation: "allocation_enfant_handicape.identite", Status: ok, MockOnly: true},
		{Name: "allocation_enfant_handicape.france_connect.citizen", Operation: "allocation_enfant_handicape.france_connect", Status: ok, Query: recipientOnly, MockOnly: true},
		{Name: "allocation_soutien_familial.identite.receiving", Operation: "allocation_soutien_familial.identite", Status: ok, MockOnly: true},
		{Name: "allocation_soutien_familial.france_connect.citizen", Operation: "allocation_soutien_familial.france_connect", Status: ok, Query: recipientOnly},
		{Name: "complementaire_sante_solidaire.identite.receiving", Operation: "complementaire_sante_solidaire.identite", Status: ok, MockOnly: true},
		{Name: "complementaire_sante_solidaire.identite.unknown_person", Operation: "complementaire_sante_solidaire.identite", Status: notFound, Query: unknown.query(), MockOnly: true},
		{Name: "complementaire_sante_solidaire.france_connect.citizen", Operation: "complementaire_sante_solidaire.france_connect", Status: ok, Query: recipientOnly},

		// France Travail.
		{Name: "france_travail.statut.registered", Operation: "france_travail.statut", Status: ok},
		{Name: "france_travail.statut.deregistered", Operation: "france_travail.statut", Status: ok, Query: url.Values{"recipient": {SandboxRecipient}, "identifiant": {"123461A"}}},
		{Name: "france_travail.statut.unknown", Operation: "france_travail.statut", Status: notFound, Query: url.Values{"recipient": {SandboxRecipient}, "identifiant": {"not_found"}}},
		{Name: "france_travail.statut.no_identifier", Operation: "france_travail.statut", Status: unprocessable, Query: recipientOnly},
		{Name: "france_travail.statut.provider_error_trigger", Operation: "france_travail.statut", Status: badGateway, Query: url.Values{"recipient": {SandboxRecipient}, "identifiant": {"erreur_fournisseur"}}, MockOnly: true},
		{Name: "france_travail.statut.provider_timeout_trigger", Operation: "france_travail.statut", Status: timeout, Query: url.Values{"recipient": {SandboxRecipient}, "identifiant": {"hors_delai"}}, MockOnly: true},
		{Name: "france_travail.indemnites.paid", Operation: "france_travail.indemnites", Status: ok},
		{Name: "france_travail.indemnites.unknown", Operation: "france_travail.indemnites", Status: notFound, Query: url.Values{"recipient": {SandboxRecipient}, "identifiant": {"inconnu"}}},
		{Name: "france_travail.indemnites.recipient_not_a_siret", Operation: "france_travail.indemnites", Status: unprocessable, Query: url.Values{"recipient": {"12345678901234"}, "identifiant": {"default"}}},
		{Name: "france_travail.indemnites.never_paid", Operation: "france_travail.indemnites", Status: notFound, Query: url.Values{"recipient": {SandboxRecipient}, "identifiant": {"123457A"}}, MockOnly: true},
		{Name: "france_travail.indemnites.invalid_token", Operation: "france_travail.indemnites", Status: unauthorized, Auth: contracts.AuthInvalid},
	}
	return cs
}
