package contracts

import (
	"time"
)

// Report is what Verify found on one platform: one Result per case, plus the
// automatic checks.
type Report struct {
	// Platform is Platform.Name.
	Platform string
	// Target is the base URL checked.
	Target string
	// Mock reports that the target is our own mock.
	Mock bool
	// Credentials says where each credential came from ("ENV: environment"
	// or "ENV: mock default"), never its value.
	Credentials []string
	// Results are in the order the checks ran: the cases, then the
	// automatic checks.
	Results []Result
	// Duration is the wall time of the whole run.
	Duration time.Duration
}

// Result is the outcome of one case or automatic check.
type Result struct {
	// Case is Case.Name; automatic checks are named
	// "<operation>.no_credentials" (the auth check), "<operation>.coverage"
	// (an operation no case expects a success from),
	// "<operation>.examples" (the operation called with its documented
	// input examples alone must answer a documented 2xx; against our mock
	// only) and "authorize" (a failed Platform.Authorize).
	Case string
	// Operation is the operationId called ("" for "authorize").
	Operation string
	// Status is the status expected; Got the status answered (0 when none).
	Status, Got int
	// Auto marks the checks Verify adds on its own.
	Auto bool
	// Duration is the time from sending the request to the end of the
	// answer's body (of the last attempt).
	Duration time.Duration
	// RateLimited counts the answers 429 after which the case was sent
	// again, as Retry-After asked (a case expecting 429 is not retried).
	RateLimited int
	// Violations are every difference found; none means the case passed.
	Violations []Violation
	// Skipped, when not empty, says why the case did not run.
	Skipped string
}

// Violation is one difference between an answer and the contract.
type Violation struct {
	// Kind is one of the Kind constants.
	Kind string
	// Path locates the difference: a JSONPath into the body
	// ("$.data.quotient_familial.valeur") or a header name; "" when the
	// whole answer is at fault.
	Path string
	// Detail says what differs, in English.
	Detail string
}

// The kinds of Violation.
const (
	// KindStatus: the status is not the one the case expects, or the
	// contract does not document it.
	KindStatus = "status"
	// KindContentType: the Content-Type is not a documented media type.
	KindContentType = "content_type"
	// KindHeader: a required header is missing, a header value breaks its
	// schema, or the rate-limit headers are inconsistent.
	KindHeader = "header"
	// KindBody: the body cannot be read as its media type (malformed JSON).
	KindBody = "body"
	// KindSchema: the body breaks its schema (openapi3filter).
	KindSchema = "schema"
	// KindAdded, KindRemoved, KindRetyped: the structural diff of a JSON
	// body (see Change).
	KindAdded   = "added"
	KindRemoved = "removed"
	KindRetyped = "retyped"
	// KindUncheckedOperation: no case expects a success from an operation.
	KindUncheckedOperation = "unchecked_operation"
	// KindTransport: no complete answer (connection refused, timeout,
	// truncated body).
	KindTransport = "transport"
	// KindContract: the contract or the case is unusable (the document
	// does not load or validate, the case names an unknown operation or
	// lacks an input).
	KindContract = "contract"
	// KindAuth: Platform.Authorize failed.
	KindAuth = "auth"
)

// Failed reports whether any result has a violation.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Failed() {
			return true
		}
	}
	return false
}

// Failed reports whether the result has a violation.
func (r Result) Failed() bool { return len(r.Violations) > 0 }

// counts returns the number of results, failed and skipped.
func (r Report) counts() (total, failed, skipped int) {
	for _, res := range r.Results {
		total++
		switch {
		case res.Failed():
			failed++
		case res.Skipped != "":
			skipped++
		}
	}
	return total, failed, skipped
}

// Change is one structural difference between a JSON body and its schema.
type Change struct {
	// Case and Operation name the call that showed the change; Status is
	// the status answered.
	Case, Operation string
	Status          int
	// Kind is KindAdded (a property the schema does not declare),
	// KindRemoved (a required property, or one of the contract's example,
	// is missing) or KindRetyped (a value of a JSON type the schema does
	// not allow). A renamed field shows as one removed and one added.
	Kind string
	// Path is the JSONPath of the property: "$.data.quotient_familial.valeur",
	// "$.data.allocataires[0].nom_naissance".
	Path string
	// Want is what the schema allows ("integer", "string|null"; "absent"
	// for an added property); Got what the body has ("string"; "absent"
	// for a removed property).
	Want, Got string
}
