package activitycsv

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one error found in an upload: where it is, a stable English
// code, and a French message for the staff who fix the file. A message
// never quotes a personal value; see the package documentation for what
// it may quote.
type Problem struct {
	// File is the file's name; for a file inside a zip, "archive.zip/name.csv".
	File string `json:"file"`
	// Line is the line of the file, counted from 1 as a text editor counts
	// them (a quoted cell holding new lines spans several); 0 only for a
	// problem with a whole archive.
	Line int `json:"line"`
	// Column is the column, counted from 1 as a spreadsheet counts them
	// (A is 1); 0 when the problem is with the line, the file or a column
	// the file lacks.
	Column int `json:"column,omitempty"`
	// Header is the column's header as the file writes it, or as the
	// templates write it for a column the file lacks.
	Header string `json:"header,omitempty"`
	// Code is stable and machine-readable: see the Code constants.
	Code string `json:"code"`
	// Message is a whole French sentence starting with its place ("Ligne
	// 42, colonne « Date d'entrée » : ...").
	Message string `json:"message"`
}

func (p Problem) Error() string {
	if p.File == "" {
		return p.Message
	}
	return p.File + " : " + p.Message
}

// Problem codes. Structure and encoding problems end the reading of a file
// where noted; the others are per cell or per row, and reading goes on.
const (
	// The file.
	codeEmptyFile           = "empty_file"           // no header line
	codeUnsupportedEncoding = "unsupported_encoding" // UTF-16; the file is not read
	codeUnknownKind         = "unknown_kind"         // neither headers nor name say what the file holds
	codeMissingFile         = "missing_file"         // rows refer to a kind of file the upload lacks
	codeSpreadsheet         = "spreadsheet_file"     // an Excel or OpenDocument workbook, not a CSV
	codeUnsupportedFile     = "unsupported_file"     // in a zip, a file that is not a CSV
	// The header line.
	codeUnknownHeader   = "unknown_header"
	codeDuplicateHeader = "duplicate_header"
	codeMissingHeader   = "missing_header" // a required column is missing; rows are not read
	codeEmptyHeader     = "empty_header"
	// Structure; the first three end the file.
	codeUnterminatedQuote = "unterminated_quote" // a quote left open: the file is truncated
	codeTooManyColumns    = "too_many_columns"
	codeRecordTooLong     = "record_too_long"
	codeBareQuote         = "bare_quote"    // a quote inside a cell that does not start with one
	codeInvalidQuote      = "invalid_quote" // text after a closing quote
	codeFieldCount        = "wrong_field_count"
	// Cells.
	codeInvalidEncoding  = "invalid_encoding" // bytes invalid in UTF-8 and in Windows-1252, control characters
	codeFormulaInjection = "formula_injection"
	codeRequired         = "required"
	codeInvalidDate      = "invalid_date"
	codeInvalidDateTime  = "invalid_date_time"
	codeInvalidNumber    = "invalid_number"
	codeOutOfRange       = "out_of_range"
	codeInvalidValue     = "invalid_value"
	codeInvalidFormat    = "invalid_format"
	codeInvalidKey       = "invalid_key"
	codeFINESSMismatch   = "finess_mismatch"
	codePersonMismatch   = "person_mismatch"
	codeInconsistent     = "inconsistent_duration"
	// Across rows.
	codeDuplicate        = "duplicate"
	codeUnknownReference = "unknown_reference"
	codeInvalidReference = "invalid_reference" // the row referred to is itself in error
	codeOutsidePeriod    = "outside_period"
	// The list.
	codeTooManyErrors = "too_many_errors"
	// Archives.
	codeZipInvalid   = "zip_invalid"
	codeZipTooMany   = "zip_too_many_files"
	codeZipTooLarge  = "zip_too_large"
	codeZipBomb      = "zip_bomb"
	codeZipPath      = "zip_unsafe_path"
	codeZipNested    = "zip_nested"
	codeZipEncrypted = "zip_encrypted"
)

// Codes lists every code Read may report besides those of the canonical
// model's checks (mapping.FieldError codes such as too_long, invalid_text,
// before_start or not_allowed, passed through on the cell they concern).
func Codes() []string {
	return []string{
		codeEmptyFile, codeUnsupportedEncoding, codeUnknownKind, codeMissingFile, codeSpreadsheet, codeUnsupportedFile,
		codeUnknownHeader, codeDuplicateHeader, codeMissingHeader, codeEmptyHeader,
		codeUnterminatedQuote, codeTooManyColumns, codeRecordTooLong, codeBareQuote, codeInvalidQuote, codeFieldCount,
		codeInvalidEncoding, codeFormulaInjection, codeRequired, codeInvalidDate, codeInvalidDateTime, codeInvalidNumber,
		codeOutOfRange, codeInvalidValue, codeInvalidFormat, codeInvalidKey, codeFINESSMismatch, codePersonMismatch,
		codeInconsistent, codeDuplicate, codeUnknownReference, codeInvalidReference, codeOutsidePeriod,
		codeTooManyErrors, codeZipInvalid, codeZipTooMany, codeZipTooLarge, codeZipBomb, codeZipPath, codeZipNested,
		codeZipEncrypted,
	}
}

// place is the start of a message: "Ligne 42, colonne « Date d'entrée » : ".
func place(line int, header string) string {
	switch {
	case line <= 0 && header == "":
		return ""
	case header == "":
		return fmt.Sprintf("Ligne %d : ", line)
	default:
		return fmt.Sprintf("Ligne %d, colonne « %s » : ", line, displayText(header, 60))
	}
}

// quote returns « v » when v may be shown: short, printable text. Callers
// only pass values of columns that allow it (column.echo) or headers.
func quote(v string) (string, bool) {
	if v == "" || utf8.RuneCountInString(v) > 40 || !utf8.ValidString(v) {
		return "", false
	}
	for _, r := range v {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return "", false
		}
	}
	return "« " + v + " »", true
}

// displayText makes a header or a file name safe to show: printable,
// valid UTF-8, at most limit characters.
func displayText(s string, limit int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == limit {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// lowerFirst lowers the first letter of a canonical message, which then
// follows a colon: "La date de sortie ..." becomes "la date de sortie ...",
// but "INS ..." stays.
func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	next, _ := utf8.DecodeRuneInString(s[size:])
	if unicode.IsUpper(r) && (unicode.IsLower(next) || next == '\'' || next == '’' || next == ' ') {
		return string(unicode.ToLower(r)) + s[size:]
	}
	return s
}
