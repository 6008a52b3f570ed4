package mapping

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Visibility says who may see a deposited document.
type Visibility string

// Document visibilities.
const (
	// VisibilityPrivate keeps the document to the beneficiary.
	VisibilityPrivate Visibility = "private"
	// VisibilityShared shares the document with the beneficiary's professionals.
	VisibilityShared Visibility = "shared"
)

// Beneficiary identifies the person a document is deposited for. Every field
// but DistantID is personal data.
type Beneficiary struct {
	// DistantID is the ESMS software's own identifier of the person; the
	// destination finds the beneficiary by it.
	DistantID string `json:"distant_id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// BirthDate is a full date, YYYY-MM-DD.
	BirthDate string `json:"birth_date"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// Document is the canonical description of a document; its content travels
// beside it, never inside it.
type Document struct {
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	FileName  string `json:"file_name"`
	MediaType string `json:"media_type"`
	// Size is the content length in bytes, computed on acceptance.
	Size int64 `json:"size"`
	// SHA256 is the hex digest of the content, computed on acceptance.
	SHA256     string     `json:"sha256"`
	IssueDate  string     `json:"issue_date,omitempty"`
	Visibility Visibility `json:"visibility"`
}

// DocumentDeposit is the canonical payload of a document deposit.
type DocumentDeposit struct {
	Beneficiary Beneficiary `json:"beneficiary"`
	Document    Document    `json:"document"`
}

// FieldError names a canonical field that is missing or malformed.
type FieldError struct {
	// Field is the JSON path of the field, e.g. "document.beneficiary.birth_date"
	// or "allocataires[0].given_names[1]".
	Field string
	// Code is a stable, English, machine-readable reason.
	Code string
	// Detail is a human-readable English explanation that never quotes the
	// value.
	Detail string
	// Message is the same explanation in French, for the people who fix the
	// data (ESMS staff, social workers); a whole sentence that names the
	// field and never quotes the value.
	Message string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Detail) }

var (
	distantIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	mediaTypePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$`)
	sha256Pattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate checks the deposit's fields; prefix is the JSON path of the deposit
// in its envelope. It returns every problem found, in field order.
//
// The document's size and digest are computed on acceptance, after this
// check: they are not checked here ([Document.Validate] checks them).
func (d *DocumentDeposit) Validate(prefix string) []*FieldError {
	var errs []*FieldError
	add := func(field, code, detail, message string) {
		errs = append(errs, &FieldError{Field: prefix + field, Code: code, Detail: detail, Message: message})
	}
	b := d.Beneficiary
	switch {
	case b.DistantID == "":
		add("beneficiary.distant_id", "required", "is required", "L'identifiant de la personne dans le logiciel est obligatoire.")
	case !distantIDPattern.MatchString(b.DistantID):
		add("beneficiary.distant_id", "invalid_format", "must be 1 to 128 letters, digits or ._:-",
			"L'identifiant de la personne doit compter 1 à 128 lettres, chiffres ou caractères ._:-.")
	}
	requireBytes(add, "beneficiary.first_name", "Le prénom", b.FirstName, 200)
	requireBytes(add, "beneficiary.last_name", "Le nom", b.LastName, 200)
	if b.BirthDate == "" {
		add("beneficiary.birth_date", "required", "is required", "La date de naissance est obligatoire.")
	} else if _, err := time.Parse(time.DateOnly, b.BirthDate); err != nil {
		add("beneficiary.birth_date", "invalid_date", "must be a date in the form YYYY-MM-DD",
			"La date de naissance n'est pas une date valide (AAAA-MM-JJ).")
	}
	if len(b.Email) > 254 || (b.Email != "" && !strings.Contains(b.Email, "@")) {
		add("beneficiary.email", "invalid_format", "must be an e-mail address", "L'adresse électronique n'est pas valide.")
	}
	if len(b.Phone) > 32 {
		add("beneficiary.phone", "too_long", "must be at most 32 characters", "Le numéro de téléphone dépasse 32 caractères.")
	}
	validateDocument(func(field, code, detail, message string) {
		add("document."+field, code, detail, message)
	}, &d.Document, false)
	return errs
}

// Validate checks a canonical document, computed fields included. Text
// limits are in bytes, as the digital safes count them; the schema can only
// bound characters, so it is laxer there.
func (d *Document) Validate() []*FieldError {
	c := newChecker("")
	validateDocument(c.add, d, true)
	return c.result()
}

func validateDocument(add func(field, code, detail, message string), doc *Document, computed bool) {
	requireBytes(add, "kind", "Le type de document", doc.Kind, 64)
	requireBytes(add, "title", "Le titre du document", doc.Title, 255)
	requireBytes(add, "file_name", "Le nom du fichier", doc.FileName, 255)
	if strings.ContainsAny(doc.FileName, "/\\\x00") {
		add("file_name", "invalid_format", "must not contain a path separator",
			"Le nom du fichier ne doit pas contenir de séparateur de chemin (/ ou \\).")
	}
	if !mediaTypePattern.MatchString(doc.MediaType) {
		add("media_type", "invalid_format", "must be a media type such as application/pdf",
			"Le type de contenu doit être un type MIME tel que application/pdf.")
	}
	if computed {
		if doc.Size < 1 {
			add("size", "out_of_range", "must be at least 1 byte", "La taille du document doit être d'au moins un octet.")
		}
		if !sha256Pattern.MatchString(doc.SHA256) {
			add("sha256", "invalid_format", "must be 64 lowercase hexadecimal digits",
				"L'empreinte SHA-256 doit compter 64 chiffres hexadécimaux en minuscules.")
		}
	}
	if doc.IssueDate != "" {
		if _, err := time.Parse(time.DateOnly, doc.IssueDate); err != nil {
			add("issue_date", "invalid_date", "must be a date in the form YYYY-MM-DD",
				"La date d'émission n'est pas une date valide (AAAA-MM-JJ).")
		}
	}
	switch doc.Visibility {
	case VisibilityPrivate, VisibilityShared:
	default:
		add("visibility", "invalid_value", `must be "private" or "shared"`,
			`La visibilité doit valoir "private" ou "shared".`)
	}
}

// requireBytes checks a required text field of at most limit bytes.
func requireBytes(add func(field, code, detail, message string), field, label, v string, limit int) {
	switch {
	case strings.TrimSpace(v) == "":
		add(field, "required", "is required", label+" est obligatoire.")
	case len(v) > limit:
		add(field, "too_long", fmt.Sprintf("must be at most %d bytes", limit),
			fmt.Sprintf("%s dépasse %d octets.", label, limit))
	}
}
