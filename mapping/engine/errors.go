package engine

import (
	"errors"
	"strconv"
	"strings"
)

// Codes of the problems found while loading a spec. They are stable: tools and
// tests match on them.
const (
	CodeRead            = "read_error"       // the file cannot be read
	CodeYAML            = "yaml_syntax"      // the file is not valid YAML
	CodeUnknownKey      = "unknown_key"      // a key the format does not define
	CodeDuplicateKey    = "duplicate_key"    // a key given twice in one mapping
	CodeMissingKey      = "missing_key"      // a required key is absent or empty
	CodeBadValue        = "bad_value"        // a key has a value of the wrong kind
	CodeBadVersion      = "bad_version"      // spec is not relais.mapping/v1
	CodeBadPath         = "bad_path"         // a field path does not parse
	CodeUndeclaredRead  = "undeclared_read"  // a rule reads a field outside reads
	CodeCELSyntax       = "cel_syntax"       // a CEL expression does not parse
	CodeCELType         = "cel_type"         // a CEL expression does not type-check
	CodeCELCost         = "cel_cost"         // a CEL expression may exceed the cost limit
	CodeUnknownTable    = "unknown_table"    // a rule names a table the spec does not define
	CodeBadTable        = "bad_table"        // a table is empty, or not reversible when used reversed
	CodeForbiddenTarget = "forbidden_target" // a rule writes a forbidden path
	CodeDuplicateTarget = "duplicate_target" // two rules write the same path unconditionally
	CodeTargetConflict  = "target_conflict"  // a rule writes inside another rule's value
	CodeBadRule         = "bad_rule"         // a rule's keys do not fit together
	CodeArrayMismatch   = "array_mismatch"   // target and source iterate different numbers of arrays
	CodeBadSchema       = "bad_schema"       // a schema cannot be found or compiled
)

// Codes of the errors found while running a plan.
const (
	CodeBadJSON       = "bad_json"        // the input is not one JSON object
	CodeInputSchema   = "input_schema"    // the input breaks the input schema
	CodeOutputSchema  = "output_schema"   // the output breaks the output schema
	CodeRequired      = "required"        // a required field has no value
	CodeTableMiss     = "table_miss"      // a value is not in the rule's code table
	CodeExprError     = "expr_error"      // a CEL expression failed at run time
	CodeCostLimit     = "cost_limit"      // a CEL expression went over the cost limit
	CodeTypeMismatch  = "type_mismatch"   // a value has a kind the rule cannot use
	CodeWriteConflict = "write_conflict"  // two rules wrote the same output path
	CodeTooManyErrors = "too_many_errors" // the error list was cut
)

// Problem is one thing wrong with a spec file, at a line and column of it.
// Messages are in English: they are for the integrator who writes the spec.
type Problem struct {
	File         string
	Line, Column int
	Code         string
	Message      string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Column))
		}
	}
	b.WriteString(": ")
	b.WriteString(p.Code)
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// LoadError is every problem found in one spec. A spec with a problem never
// loads.
type LoadError struct {
	File     string
	Problems []Problem
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("loading mapping spec ")
	b.WriteString(e.File)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(len(e.Problems)))
	b.WriteString(" problem(s)")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Has reports whether one of the problems has the code.
func (e *LoadError) Has(code string) bool {
	for _, p := range e.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

// Error is one thing that went wrong while mapping a payload. It names where
// and why, never the value: Message is in French, for the people who read the
// ESMS software's screens, and quotes a value only when the spec declares its
// source field public (not personal data).
type Error struct {
	// Path is the output path with element indices, e.g.
	// "household.allocataires[1].birth_date", or the input path for input
	// errors.
	Path string `json:"path,omitempty"`
	// Source is the input path the value came from, with indices, if any.
	Source string `json:"source,omitempty"`
	// Rule is the 1-based position of the rule in the spec, in reading order
	// (nested rules included, YAML aliases expanded); 0 when the error is not
	// a rule's. Line is the rule's line in the spec file.
	Rule int `json:"rule,omitempty"`
	Line int `json:"line,omitempty"`
	// Target is the rule's target, [] standing for every element.
	Target string `json:"target,omitempty"`
	// Code is stable and in English: one of the Code... constants.
	Code string `json:"code"`
	// Message is in French and never quotes personal data.
	Message string `json:"message"`
	// Personal says the field holds personal data: every field unless the
	// spec lists it under public.
	Personal bool `json:"personal"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Rule > 0 {
		b.WriteString(" (règle ")
		b.WriteString(strconv.Itoa(e.Rule))
		b.WriteString(", ")
		b.WriteString(e.Target)
		b.WriteByte(')')
	}
	return b.String()
}

// Is matches another *Error by code, so callers can test
// errors.Is(err, &engine.Error{Code: engine.CodeRequired}).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

// Errors is every error of one run, in the order the rules met them.
type Errors []*Error

func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "no mapping error"
	case 1:
		return "mapping: " + es[0].Error()
	}
	var b strings.Builder
	b.WriteString("mapping: ")
	b.WriteString(strconv.Itoa(len(es)))
	b.WriteString(" errors")
	for _, e := range es {
		b.WriteString("; ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes each *Error to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors bounds the errors kept for one run.
const maxErrors = 100
