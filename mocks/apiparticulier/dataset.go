package apiparticulier

import (
	"strings"

	"github.com/relais-dev/relais/mapping"
)

// dataset is the households in effect, indexed for lookups. It is never
// modified once built: SetHousehold builds a new one.
type dataset struct {
	households []Household
	// exact maps an operationId and an identity key to the household a
	// sandbox case selects.
	exact map[string]map[string]*Household
	// members are the allocataires of every household, normalized once, in
	// lookup order.
	members []indexedMember
}

// indexedMember is an allocataire ready to be compared.
type indexedMember struct {
	household         *Household
	nom, prenoms, sex string
	annee, mois, jour int
	commune, pays     string // "" when unknown
}

// newDataset indexes households (in lookup order) and the sandbox cases.
// A case whose household is absent is skipped.
func newDataset(households []Household, queries []sandboxQuery) *dataset {
	d := &dataset{households: households, exact: map[string]map[string]*Household{}}
	byID := make(map[string]*Household, len(households))
	for i := range households {
		h := &d.households[i]
		if _, dup := byID[h.ID]; dup {
			continue // the first one wins, like the lookup
		}
		byID[h.ID] = h
		for _, m := range h.Allocataires {
			im := indexedMember{household: h, nom: mapping.FoldName(m.NomNaissance), prenoms: mapping.FoldName(m.Prenoms)}
			im.annee, im.mois, im.jour, _ = splitDate(m.DateNaissance)
			if m.CodeCommuneNaissance != nil {
				im.commune = strings.ToUpper(*m.CodeCommuneNaissance)
			}
			if m.CodePaysNaissance != nil {
				im.pays = *m.CodePaysNaissance
			}
			im.sex = m.Sexe
			d.members = append(d.members, im)
		}
	}
	for _, q := range queries {
		h := byID[q.Household]
		if h == nil {
			continue
		}
		if d.exact[q.Operation] == nil {
			d.exact[q.Operation] = map[string]*Household{}
		}
		d.exact[q.Operation][q.Params.Identity.key()] = h
	}
	return d
}

// find returns the household an identity selects on an operation, or nil.
//
// A sandbox case of that operation whose identity is the same (names
// compared without case, accents or hyphens) selects its household, as on
// the platform's sandbox. Otherwise the first household, in lookup order,
// one of whose allocataires matches wins: same birth name and sex, the
// first names asked are the allocataire's or their first ones in order,
// the year of birth is given and equal, the month and day equal when both
// sides know them, and the place of birth equal when the allocataire's is
// known (a commune given by name is resolved first; an unknown name finds
// nobody).
func (d *dataset) find(operationID string, id Identity, communes map[string]commune) *Household {
	if h := d.exact[operationID][id.key()]; h != nil {
		return h
	}
	if id.AnneeNaissance == 0 {
		return nil
	}
	nom, prenoms := mapping.FoldName(id.NomNaissance), mapping.FoldName(strings.Join(id.Prenoms, " "))
	place := ""
	if id.CodePaysNaissance == paysFrance {
		place = id.birthCommune(communes)
	}
	for i := range d.members {
		m := &d.members[i]
		if m.nom != nom || m.sex != id.Sexe || m.annee != id.AnneeNaissance || !prenomsMatch(prenoms, m.prenoms) {
			continue
		}
		if (id.MoisNaissance != 0 && m.mois != 0 && id.MoisNaissance != m.mois) ||
			(id.JourNaissance != 0 && m.jour != 0 && id.JourNaissance != m.jour) {
			continue
		}
		if m.pays != "" && m.pays != id.CodePaysNaissance {
			continue
		}
		if m.commune != "" && id.CodePaysNaissance == paysFrance && m.commune != place {
			continue
		}
		return m.household
	}
	return nil
}
