package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/relais-dev/relais/gateway/mandate"
)

// Limits of the mandate creation form.
const (
	// maxAttestation bounds the attestation file. It is hashed as it
	// streams in, never written anywhere.
	maxAttestation = 10 << 20
	// maxFormField bounds each other field of the form.
	maxFormField = 1 << 10
	// maxFormParts bounds the number of parts of the form.
	maxFormParts = 64
)

// personFields are the identity traits as typed in a form.
type personFields struct {
	FamilyName, GivenNames, BirthDate, Sex, BirthCountry, BirthPlace string
}

func personFieldsOf(v url.Values) personFields {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return personFields{
		FamilyName: get("family_name"), GivenNames: get("given_names"), BirthDate: get("birth_date"), Sex: get("sex"),
		BirthCountry: strings.ToUpper(get("birth_country")), BirthPlace: strings.ToUpper(get("birth_place")),
	}
}

// person is the traits as the mandate service wants them: a birth place
// typed for someone born abroad is dropped, not refused.
func (f personFields) person() mandate.Person {
	p := mandate.Person{
		FamilyName: f.FamilyName, GivenNames: f.GivenNames, BirthDate: f.BirthDate, Sex: f.Sex,
		BirthCountry: f.BirthCountry, BirthPlace: f.BirthPlace,
	}
	if p.BirthCountry != mandate.FranceCOG {
		p.BirthPlace = ""
	}
	return p
}

// createForm is the mandate creation form, read.
type createForm struct {
	CSRF      string
	Person    personFields
	Demarches []string
	Duration  string
	Consent   string
	Phone     string
	// Attestation is the hex SHA-256 of the uploaded attestation; empty
	// when no file (or an empty one) came.
	Attestation string
}

// errFormShape is a creation form that is not what the page sends.
var errFormShape = errors.New("malformed creation form")

// readCreateForm streams the multipart creation form: the attestation is
// hashed on the fly (neither kept in memory nor spilled to a temporary
// file, unlike ParseMultipartForm), every other field is small. A body over
// the limit is an *http.MaxBytesError.
func readCreateForm(w http.ResponseWriter, r *http.Request) (createForm, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAttestation+maxFormParts*maxFormField)
	mr, err := r.MultipartReader()
	if err != nil {
		return createForm{}, fmt.Errorf("%w: %w", errFormShape, err)
	}
	var (
		f    createForm
		vals = url.Values{}
	)
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return createForm{}, fmt.Errorf("reading form part: %w", err)
		}
		if parts >= maxFormParts {
			part.Close()
			return createForm{}, fmt.Errorf("%w: more than %d parts", errFormShape, maxFormParts)
		}
		name := part.FormName()
		if name == "attestation" {
			sum := sha256.New()
			n, err := io.Copy(sum, io.LimitReader(part, maxAttestation+1))
			part.Close()
			if err != nil {
				return createForm{}, fmt.Errorf("reading attestation: %w", err)
			}
			if n > maxAttestation {
				return createForm{}, &http.MaxBytesError{Limit: maxAttestation}
			}
			if n > 0 {
				f.Attestation = hex.EncodeToString(sum.Sum(nil))
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		part.Close()
		if err != nil {
			return createForm{}, fmt.Errorf("reading form field: %w", err)
		}
		if len(b) > maxFormField {
			return createForm{}, fmt.Errorf("%w: field %q too long", errFormShape, name)
		}
		vals.Add(name, string(b))
	}
	f.CSRF, f.Person = vals.Get("csrf"), personFieldsOf(vals)
	f.Demarches, f.Duration = vals["demarches"], vals.Get("duration_days")
	f.Consent, f.Phone = vals.Get("consent_method"), strings.TrimSpace(vals.Get("phone"))
	return f, nil
}

// fieldErrors are French messages by form field.
type fieldErrors map[string]string

// frenchErrors turns the service's validation errors into French messages
// for the form's fields; anything else is a message under "".
func frenchErrors(err error) fieldErrors {
	out := fieldErrors{}
	var ve *mandate.ValidationError
	if !errors.As(err, &ve) {
		out[""] = "Le formulaire n'a pas pu être vérifié."
		return out
	}
	for _, fe := range ve.Fields {
		field := strings.TrimPrefix(fe.Field, "person.")
		if i := strings.IndexByte(field, '['); i >= 0 {
			field = field[:i]
		}
		if _, seen := out[field]; !seen {
			out[field] = frenchMessage(field, fe.Code)
		}
	}
	return out
}

// fieldLabels name the text fields: as an object, and after "de".
var fieldLabels = map[string][2]string{
	"family_name": {"le nom de naissance", "du nom de naissance"},
	"given_names": {"les prénoms", "des prénoms"},
}

func frenchMessage(field, code string) string {
	switch field {
	case "family_name", "given_names":
		label := fieldLabels[field]
		switch code {
		case "required":
			return "Indiquez " + label[0] + "."
		case "too_long":
			return "Raccourcissez " + label[0] + " (200 caractères au plus)."
		}
		return "Retirez les caractères de contrôle " + label[1] + "."
	case "birth_date":
		return "Indiquez une date de naissance valide, passée et postérieure à 1880."
	case "sex":
		return "Choisissez le sexe inscrit à l'état civil : féminin ou masculin."
	case "birth_country":
		return "Indiquez le code INSEE du pays de naissance : 5 caractères commençant par 99 (99100 pour la France)."
	case "birth_place":
		if code == "invalid_value" {
			return "La commune de naissance ne s'indique que pour une personne née en France."
		}
		return "Pour une personne née en France, indiquez le code INSEE de la commune de naissance (5 caractères, par exemple 35238 pour Rennes)."
	case "demarches":
		if code == "required" {
			return "Cochez au moins une démarche."
		}
		return "Cochez uniquement des démarches de la liste."
	case "duration_days":
		return "Choisissez une durée : 1 jour, 1 mois, 6 mois ou 1 an."
	case "consent_method":
		return "Choisissez comment la personne donne son accord : en votre présence ou par SMS."
	case "attestation_sha256":
		return "Joignez l'attestation de mandat signée par la personne (un fichier non vide)."
	case "phone":
		return "Indiquez le numéro de mobile de la personne : 06 ou 07 suivi de 8 chiffres."
	case "professional.id", "professional.name":
		return "Votre identité de professionnel est incomplète : déconnectez-vous puis reconnectez-vous avec ProConnect."
	}
	return "Ce champ n'est pas valide."
}
