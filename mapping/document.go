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
	// Field is the JSON path of the field, e.g. "document.beneficiary.birth_date".
	Field string
	// Code is a stable, English, machine-readable reason.
	Code string
	// Detail is a human-readable explanation that never quotes the value.
	Detail string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Detail) }

var (
	distantIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	mediaTypePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$`)
)

// Validate checks the deposit's fields; prefix is the JSON path of the deposit
// in its envelope. It returns every problem found, in field order.
func (d *DocumentDeposit) Validate(prefix string) []*FieldError {
	var errs []*FieldError
	add := func(field, code, detail string) {
		errs = append(errs, &FieldError{Field: prefix + field, Code: code, Detail: detail})
	}
	b := d.Beneficiary
	switch {
	case b.DistantID == "":
		add("beneficiary.distant_id", "required", "is required")
	case !distantIDPattern.MatchString(b.DistantID):
		add("beneficiary.distant_id", "invalid_format", "must be 1 to 128 letters, digits or ._:-")
	}
	requireText := func(field, v string, limit int) {
		switch {
		case strings.TrimSpace(v) == "":
			add(field, "required", "is required")
		case len(v) > limit:
			add(field, "too_long", fmt.Sprintf("must be at most %d bytes", limit))
		}
	}
	requireText("beneficiary.first_name", b.FirstName, 200)
	requireText("beneficiary.last_name", b.LastName, 200)
	if b.BirthDate == "" {
		add("beneficiary.birth_date", "required", "is required")
	} else if _, err := time.Parse(time.DateOnly, b.BirthDate); err != nil {
		add("beneficiary.birth_date", "invalid_date", "must be a date in the form YYYY-MM-DD")
	}
	if len(b.Email) > 254 || (b.Email != "" && !strings.Contains(b.Email, "@")) {
		add("beneficiary.email", "invalid_format", "must be an e-mail address")
	}
	if len(b.Phone) > 32 {
		add("beneficiary.phone", "too_long", "must be at most 32 characters")
	}

	doc := d.Document
	requireText("document.kind", doc.Kind, 64)
	requireText("document.title", doc.Title, 255)
	requireText("document.file_name", doc.FileName, 255)
	if strings.ContainsAny(doc.FileName, "/\\\x00") {
		add("document.file_name", "invalid_format", "must not contain a path separator")
	}
	if !mediaTypePattern.MatchString(doc.MediaType) {
		add("document.media_type", "invalid_format", "must be a media type such as application/pdf")
	}
	if doc.IssueDate != "" {
		if _, err := time.Parse(time.DateOnly, doc.IssueDate); err != nil {
			add("document.issue_date", "invalid_date", "must be a date in the form YYYY-MM-DD")
		}
	}
	switch doc.Visibility {
	case VisibilityPrivate, VisibilityShared:
	default:
		add("document.visibility", "invalid_value", `must be "private" or "shared"`)
	}
	return errs
}
