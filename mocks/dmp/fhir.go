package dmp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// FHIR JSON content type, as the server writes it.
const contentTypeFHIR = "application/fhir+json; charset=utf-8"

// errorCodeSystem names the IHE XDS error codes in OperationOutcome details.
// The code names are IHE's; the system URI is Relais' own.
const errorCodeSystem = "urn:ihe:iti:xds:errorCode"

// The IHE XDS error codes the mock answers with.
const (
	XDSMissingDocument             = "XDSMissingDocument"
	XDSUnknownPatientID            = "XDSUnknownPatientId"
	XDSPatientIDDoesNotMatch       = "XDSPatientIdDoesNotMatch"
	XDSDuplicateUniqueIDInRegistry = "XDSDuplicateUniqueIdInRegistry"
	XDSNonIdenticalHash            = "XDSNonIdenticalHash"
	XDSNonIdenticalSize            = "XDSNonIdenticalSize"
	XDSRegistryMetadataError       = "XDSRegistryMetadataError"
)

// Identifier is a FHIR Identifier reduced to what the mock reads.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// The FHIR shapes the mock decodes to check a provide bundle. Elements it
// does not check are not listed: the resources are stored as received.
type (
	reference struct {
		Reference  string      `json:"reference,omitempty"`
		Identifier *Identifier `json:"identifier,omitempty"`
	}
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	containedResource struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	attachment struct {
		ContentType string `json:"contentType"`
		URL         string `json:"url"`
		Size        int64  `json:"size"`
		Hash        string `json:"hash"`
	}
	documentReference struct {
		Contained        []containedResource `json:"contained"`
		MasterIdentifier Identifier          `json:"masterIdentifier"`
		Subject          reference           `json:"subject"`
		Author           []reference         `json:"author"`
		Custodian        *reference          `json:"custodian"`
		RelatesTo        []struct {
			Code   string    `json:"code"`
			Target reference `json:"target"`
		} `json:"relatesTo"`
		Content []struct {
			Attachment attachment `json:"attachment"`
		} `json:"content"`
	}
	list struct {
		Contained []containedResource `json:"contained"`
		Code      codeableConcept     `json:"code"`
		Subject   reference           `json:"subject"`
		Source    *reference          `json:"source"`
		Entry     []struct {
			Item reference `json:"item"`
		} `json:"entry"`
	}
	binary struct {
		ContentType string `json:"contentType"`
		Data        []byte `json:"data"` // base64 in JSON
	}
	bundleEntry struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	}
	bundle struct {
		ResourceType string        `json:"resourceType"`
		Type         string        `json:"type"`
		Entry        []bundleEntry `json:"entry"`
	}
)

// mhdListTypes is the code system of MHD list types.
const mhdListTypes = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"

// listType is "submissionset", "folder" or "".
func (l *list) listType() string {
	for _, c := range l.Code.Coding {
		if c.System == mhdListTypes && (c.Code == "submissionset" || c.Code == "folder") {
			return c.Code
		}
	}
	return ""
}

// issue is one OperationOutcome issue.
type issue struct {
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *codeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
	Expression  []string         `json:"expression,omitempty"`
}

type operationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []issue `json:"issue"`
}

// fhirError is an answer with an OperationOutcome of one issue.
type fhirError struct {
	status      int
	code        string // FHIR issue type
	xds         string // IHE XDS error code, if any
	diagnostics string
	expression  string // FHIRPath of the faulty element, if known
}

func (e *fhirError) Error() string { return e.diagnostics }

// rejection is a 422 for a business rule.
func rejection(xds, code, expression, format string, args ...any) *fhirError {
	return &fhirError{status: http.StatusUnprocessableEntity, code: code, xds: xds, expression: expression, diagnostics: fmt.Sprintf(format, args...)}
}

func (e *fhirError) outcome() operationOutcome {
	is := issue{Severity: "error", Code: e.code, Diagnostics: e.diagnostics}
	if e.xds != "" {
		is.Details = &codeableConcept{Coding: []coding{{System: errorCodeSystem, Code: e.xds}}}
	}
	if e.expression != "" {
		is.Expression = []string{e.expression}
	}
	return operationOutcome{ResourceType: "OperationOutcome", Issue: []issue{is}}
}

// write sends e as an OperationOutcome.
func (e *fhirError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, e.status, e.outcome())
}

// writeJSON sends v as FHIR JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value written is built by this package from JSON-safe
		// types: failing to encode one is a bug.
		panic(fmt.Sprintf("dmp: encoding %T: %v", v, err))
	}
	w.Header().Set("Content-Type", contentTypeFHIR)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client may be gone
}

// writeProblem is the platform.ErrorWriter: the runtime's refusals as
// OperationOutcome.
func writeProblem(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	e := &fhirError{status: p.Status, code: issueCode(p.Status), diagnostics: p.Detail}
	switch p.Kind {
	case platform.KindInvalidRequest:
		e.expression = fhirPath(p.Parameter)
	case platform.KindUnauthorized:
		e.code = "login"
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case platform.KindMethod:
		e.code = "not-supported"
	case platform.KindConflict:
		e.code = "conflict"
	}
	if e.status == 0 {
		e.status = http.StatusInternalServerError
	}
	e.write(w)
}

// issueCode is the FHIR issue type that goes with an HTTP status.
func issueCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "login"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		return "not-supported"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too-long"
	case http.StatusUnprocessableEntity:
		return "business-rule"
	case http.StatusTooManyRequests:
		return "throttled"
	case http.StatusGatewayTimeout:
		return "timeout"
	}
	if status >= 500 {
		return "transient"
	}
	return "processing"
}

// fhirPath turns the runtime's name of a faulty field into a FHIRPath: a
// JSON pointer into a provide bundle ("/entry/1/resource/status") becomes
// "Bundle.entry[1].resource.status"; a parameter name stays as is.
func fhirPath(param string) string {
	if !strings.HasPrefix(param, "/") {
		return param
	}
	var b strings.Builder
	b.WriteString("Bundle")
	for tok := range strings.SplitSeq(param[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		b.WriteString("." + tok)
	}
	return b.String()
}

// instant formats t as a FHIR instant, in UTC to the millisecond.
func instant(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
}

// marshalResource encodes a resource held as a JSON object with
// resourceType, id and meta first, as FHIR servers write them; the other
// elements follow in name order.
func marshalResource(m map[string]any) json.RawMessage {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch k {
		case "resourceType":
			return 0
		case "id":
			return 1
		case "meta":
			return 2
		}
		return 3
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(mustJSON(m[k]))
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// mustJSON encodes v without HTML escaping; v comes from decoded JSON or
// from this package, so encoding cannot fail.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("dmp: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
