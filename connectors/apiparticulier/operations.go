package apiparticulier

import (
	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// Operation names, as PullOperation.Name and PullQuery.Operations give them.
// The CAF/MSA ones are the platform's benefit names (its routes
// /v3/dss/<name>/identite and /france_connect), which are also the
// canonical mapping.BenefitKind values.
const (
	OpQuotientFamilial             = string(mapping.KindQuotientFamilial)
	OpParticipationFamilialeEAJE   = string(mapping.KindParticipationFamilialeEAJE)
	OpRevenuSolidariteActive       = string(mapping.KindRevenuSolidariteActive)
	OpPrimeActivite                = string(mapping.KindPrimeActivite)
	OpAllocationAdulteHandicape    = string(mapping.KindAllocationAdulteHandicape)
	OpAllocationEnfantHandicape    = string(mapping.KindAllocationEnfantHandicape)
	OpAllocationSoutienFamilial    = string(mapping.KindAllocationSoutienFamilial)
	OpComplementaireSanteSolidaire = string(mapping.KindComplementaireSanteSolidaire)
	OpFranceTravailStatut          = "france_travail_statut"
	OpFranceTravailIndemnites      = "france_travail_indemnites"
)

// FranceTravailIDSystem is the mapping.Identifier system of a person's
// France Travail identifier (the user name of their online account), which
// the France Travail routes take instead of identity traits: put it in
// PullQuery.Person.Identifiers.
const FranceTravailIDSystem = "https://francetravail.fr/identifiant"

// route is how an operation reaches the platform.
type route int

const (
	// routeDSS: /v3/dss/<name>/identite with identity traits, or
	// /v3/dss/<name>/france_connect with the citizen's access token.
	routeDSS route = iota + 1
	// routeFranceTravail: /v3/france_travail/<what>/identifiant with the
	// person's France Travail identifier.
	routeFranceTravail
)

// operation is one operation with what the connector needs to run it.
type operation struct {
	connectors.PullOperation
	route route
	// path is the route's path: the prefix before /identite or
	// /france_connect for routeDSS, the whole path otherwise.
	path string
	// provider is who answers when the answer does not say (and on
	// errors): the CNAF for the CAF/MSA routes, France Travail.
	provider mapping.Provider
	// monthly operations take annee and mois (PullQuery.Month).
	monthly bool
}

// operations is every operation the platform offers, in the order Pull runs
// them when asked for all. The démarches and data categories are argued in
// the package documentation.
func operations() []operation {
	dss := func(name string, d mapping.Demarche, c mapping.DataCategory) operation {
		return operation{
			PullOperation: connectors.PullOperation{Name: name, Demarche: d, Category: c, FranceConnect: true},
			route:         routeDSS,
			path:          "/v3/dss/" + name,
			provider:      mapping.ProviderCNAF,
			monthly:       name == OpQuotientFamilial,
		}
	}
	ft := func(name, path string) operation {
		return operation{
			PullOperation: connectors.PullOperation{Name: name, Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
			route:         routeFranceTravail,
			path:          path,
			provider:      mapping.ProviderFranceTravail,
		}
	}
	return []operation{
		dss(OpQuotientFamilial, mapping.DemarcheFamille, mapping.DataHousehold),
		dss(OpParticipationFamilialeEAJE, mapping.DemarcheFamille, mapping.DataHousehold),
		dss(OpAllocationSoutienFamilial, mapping.DemarcheFamille, mapping.DataBenefit),
		dss(OpAllocationEnfantHandicape, mapping.DemarcheFamille, mapping.DataBenefit),
		dss(OpRevenuSolidariteActive, mapping.DemarcheSocial, mapping.DataBenefit),
		dss(OpPrimeActivite, mapping.DemarcheSocial, mapping.DataBenefit),
		dss(OpAllocationAdulteHandicape, mapping.DemarcheSocial, mapping.DataBenefit),
		dss(OpComplementaireSanteSolidaire, mapping.DemarcheSocial, mapping.DataBenefit),
		ft(OpFranceTravailStatut, "/v3/france_travail/statut/identifiant"),
		ft(OpFranceTravailIndemnites, "/v3/france_travail/indemnites/identifiant"),
	}
}
