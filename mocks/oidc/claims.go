package oidc

import "slices"

// scopeClaims lists, per kind of user, the claims each scope releases
// (besides sub, which openid always releases). FranceConnect's are those
// of its documentation: identite_pivot is the identity pivot, profile the
// pivot without the place of birth plus preferred_username, birth the
// place of birth.
var scopeClaims = map[Kind]map[string][]string{
	Citizen: {
		"identite_pivot":     {"given_name", "given_name_array", "family_name", "birthdate", "gender", "birthplace", "birthcountry"},
		"profile":            {"given_name", "given_name_array", "family_name", "birthdate", "gender", "preferred_username"},
		"birth":              {"birthplace", "birthcountry"},
		"given_name":         {"given_name", "given_name_array"},
		"family_name":        {"family_name"},
		"birthdate":          {"birthdate"},
		"gender":             {"gender"},
		"birthplace":         {"birthplace"},
		"birthcountry":       {"birthcountry"},
		"email":              {"email"},
		"preferred_username": {"preferred_username"},
		"idp_birthdate":      {"idp_birthdate"},
	},
	Professional: {
		"given_name":           {"given_name"},
		"usual_name":           {"usual_name"},
		"email":                {"email"},
		"uid":                  {"uid"},
		"siret":                {"siret"},
		"siren":                {"siren"},
		"idp_id":               {"idp_id"},
		"organizational_unit":  {"organizational_unit"},
		"belonging_population": {"belonging_population"},
		"phone":                {"phone_number"},
	},
	HealthProfessional: {
		"scope_all": {"given_name", "family_name", "preferred_username", "email",
			"SubjectNameID", "SubjectRole", "Secteur_Activite", "SubjectRefPro"},
	},
}

// claimLabels are the French labels of the consent page.
var claimLabels = map[string]string{
	"given_name":           "Prénom(s)",
	"given_name_array":     "Liste des prénoms",
	"family_name":          "Nom de naissance",
	"birthdate":            "Date de naissance",
	"gender":               "Sexe",
	"birthplace":           "Lieu de naissance (code INSEE)",
	"birthcountry":         "Pays de naissance (code INSEE)",
	"email":                "Adresse électronique",
	"preferred_username":   "Nom d'usage",
	"idp_birthdate":        "Date de naissance (fournisseur d'identité)",
	"usual_name":           "Nom d'usage",
	"uid":                  "Identifiant chez le fournisseur d'identité",
	"siret":                "SIRET de l'organisation",
	"siren":                "SIREN de l'organisation",
	"idp_id":               "Fournisseur d'identité",
	"organizational_unit":  "Service",
	"belonging_population": "Population d'appartenance",
	"phone_number":         "Téléphone",
	"SubjectNameID":        "Identifiant national (RPPS)",
	"SubjectRole":          "Profession (code)",
	"Secteur_Activite":     "Secteur d'activité",
	"SubjectRefPro":        "Lieux et modes d'exercice",
}

// releasedClaims lists the claims scopes release to a user of kind k, in
// a stable order, without duplicates and without sub.
func releasedClaims(k Kind, scopes []string) []string {
	var out []string
	for _, s := range scopes {
		for _, c := range scopeClaims[k][s] {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// claimValues returns the values of the claims scopes release for u.
// Empty optional values are left out, except birthplace, which a citizen
// born abroad gets empty as FranceConnect sends it.
func claimValues(u User, scopes []string) map[string]any {
	out := make(map[string]any)
	set := func(name string, v string) {
		if v != "" {
			out[name] = v
		}
	}
	for _, c := range releasedClaims(u.Kind, scopes) {
		switch c {
		case "given_name":
			set(c, u.GivenName())
		case "given_name_array":
			out[c] = slices.Clone(u.GivenNames)
		case "family_name":
			set(c, u.FamilyName)
		case "birthdate", "idp_birthdate":
			set(c, u.Birthdate)
		case "gender":
			set(c, u.Gender)
		case "birthplace":
			if u.Kind == Citizen {
				out[c] = u.Birthplace
			}
		case "birthcountry":
			set(c, u.Birthcountry)
		case "email":
			set(c, u.Email)
		case "preferred_username":
			if u.Kind == HealthProfessional {
				set(c, u.SubjectNameID)
			} else {
				set(c, u.PreferredUsername)
			}
		case "usual_name":
			set(c, u.UsualName)
		case "uid":
			set(c, u.UID)
		case "siret":
			set(c, u.SIRET)
		case "siren":
			if len(u.SIRET) == 14 {
				out[c] = u.SIRET[:9]
			}
		case "idp_id":
			set(c, u.IdpID)
		case "organizational_unit":
			set(c, u.OrganizationalUnit)
		case "belonging_population":
			set(c, u.BelongingPopulation)
		case "phone_number":
			set(c, u.Phone)
		case "SubjectNameID":
			set(c, u.SubjectNameID)
		case "SubjectRole":
			out[c] = slices.Clone(u.SubjectRoles)
		case "Secteur_Activite":
			set(c, u.SecteurActivite)
		case "SubjectRefPro":
			out[c] = map[string]any{"exercices": slices.Clone(u.Exercices)}
		}
	}
	return out
}
