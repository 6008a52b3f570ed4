package mapping

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Patterns shared by Validate and the JSON Schemas: the schemas in
// schemas/v1 repeat these exact expressions, so both sides accept the same
// strings (the schema compiler uses Go's regexp engine).
var (
	// textPattern is one line of text that neither starts nor ends with
	// white space.
	textPattern = regexp.MustCompile(`^\S(?:.*\S)?$`)
	// localIDPattern is an identifier chosen by the ESMS software or by
	// Relais: a mandate, a consent, an event, a person in a mandate.
	localIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,128}$`)
	// uriPattern is an absolute URI such as an identifier system
	// (https://... or urn:oid:...).
	uriPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:\S+$`)
	// codePattern is a code in a code system.
	codePattern = regexp.MustCompile(`^\S{1,64}$`)
)

// checker collects the field errors of one validation. Nested values get a
// child checker whose prefix is their JSON path; all share one slice.
type checker struct {
	prefix string
	errs   *[]*FieldError
}

func newChecker(prefix string) *checker {
	return &checker{prefix: prefix, errs: new([]*FieldError)}
}

// path is the JSON path of a field of the value being checked.
func (c *checker) path(field string) string {
	switch {
	case c.prefix == "":
		return field
	case field == "":
		return c.prefix
	case strings.HasPrefix(field, "["):
		return c.prefix + field
	default:
		return c.prefix + "." + field
	}
}

// at returns a checker for the nested value at field.
func (c *checker) at(field string) *checker {
	return &checker{prefix: c.path(field), errs: c.errs}
}

// item returns a checker for element i of the list at field.
func (c *checker) item(field string, i int) *checker {
	return c.at(fmt.Sprintf("%s[%d]", field, i))
}

func (c *checker) add(field, code, detail, message string) {
	*c.errs = append(*c.errs, &FieldError{Field: c.path(field), Code: code, Detail: detail, Message: message})
}

func (c *checker) result() []*FieldError { return *c.errs }

// missing reports a required field; label is the French name of the field
// with its article, capitalised ("La date de naissance").
func (c *checker) missing(field, label string) {
	c.add(field, "required", "is required", label+" est obligatoire.")
}

// text checks a one-line text field of at most limit characters.
func (c *checker) text(field, label, v string, required bool, limit int) {
	switch {
	case v == "" && !required:
	case strings.TrimSpace(v) == "" && required:
		c.missing(field, label)
	case utf8.RuneCountInString(v) > limit:
		c.add(field, "too_long", fmt.Sprintf("must be at most %d characters", limit),
			fmt.Sprintf("%s dépasse %d caractères.", label, limit))
	case !textPattern.MatchString(v):
		c.add(field, "invalid_text", "must be one line that neither starts nor ends with white space",
			label+" doit tenir sur une ligne, sans espace au début ni à la fin.")
	}
}

// localID checks an identifier against localIDPattern.
func (c *checker) localID(field, label, v string) {
	switch {
	case v == "":
		c.missing(field, label)
	case !localIDPattern.MatchString(v):
		c.add(field, "invalid_format", "must be 1 to 128 letters, digits or ._:/-",
			label+" doit compter 1 à 128 lettres, chiffres ou caractères ._:/-.")
	}
}

// date checks a full calendar date.
func (c *checker) date(field, label string, d Date, required bool) {
	switch {
	case d == "" && !required:
	case d == "":
		c.missing(field, label)
	case !d.Valid():
		c.add(field, "invalid_date", "must be a date in the form YYYY-MM-DD",
			label+" n'est pas une date valide (AAAA-MM-JJ).")
	}
}

// instant checks a required point in time; an invalid one cannot be decoded.
func (c *checker) instant(field, label string, t time.Time) {
	if t.IsZero() {
		c.missing(field, label)
	}
}

// notBefore reports end when it is before start; zero values are skipped.
func (c *checker) notBefore(field, label string, start, end time.Time) {
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		c.add(field, "before_start", "must not be before the start",
			label+" ne peut pas précéder le début.")
	}
}

// enum checks that v is one of the allowed values.
func enum[T ~string](c *checker, field, label string, v T, allowed ...T) {
	if v == "" {
		c.missing(field, label)
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = fmt.Sprintf("%q", string(a))
	}
	list := strings.Join(quoted, ", ")
	c.add(field, "invalid_value", "must be one of "+list,
		fmt.Sprintf("%s doit valoir l'une des valeurs %s.", label, list))
}

// within checks that an integer lies in [lo, hi].
func (c *checker) within(field, label string, v, lo, hi int) {
	if v < lo || v > hi {
		c.add(field, "out_of_range", fmt.Sprintf("must be between %d and %d", lo, hi),
			fmt.Sprintf("%s doit être compris entre %d et %d.", label, lo, hi))
	}
}

// uniqueStrings reports a list that repeats a value. The error is on the
// list, where the schema's uniqueItems puts it.
func uniqueStrings[T ~string](c *checker, field, message string, list []T) {
	seen := make(map[T]bool, len(list))
	for _, v := range list {
		if seen[v] {
			c.add(field, "duplicate", "must not repeat an entry", message)
			return
		}
		seen[v] = true
	}
}
