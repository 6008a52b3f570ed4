package connectors

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// Puller fetches what one platform knows of a person, for a profile lookup.
// Each operation it offers declares the démarche a mandate must cover and the
// data category a consent must list before it may run.
type Puller interface {
	// Name is the source name callers use in a lookup.
	Name() string
	// Operations lists what the platform can return.
	Operations() []PullOperation
	// Pull runs the operations q asks for (all of them when q.Operations
	// is empty) and returns one item per operation, in the order asked.
	// A failed operation is an item with Err set, never an error of Pull:
	// Pull itself fails only when it could not run anything (a bad query).
	Pull(ctx context.Context, q *PullQuery) ([]PullItem, error)
	// Status reports the source's health for operators.
	Status() Status
}

// ErrInvalidQuery is wrapped by the error Pull returns when the query
// cannot run at all (no valid recipient, an unknown operation, nothing to
// identify the person with): the caller's mistake, never the platform's.
var ErrInvalidQuery = errors.New("invalid pull query")

// PullOperation is one thing a Puller can fetch.
type PullOperation struct {
	// Name is stable and snake_case, e.g. "quotient_familial",
	// "france_travail_statut".
	Name string `json:"name"`
	// Demarche is the démarche a mandate must cover for this operation.
	Demarche mapping.Demarche `json:"demarche"`
	// Category is the data category a consent must list for it.
	Category mapping.DataCategory `json:"category"`
	// FranceConnect reports whether the operation can run with a citizen's
	// FranceConnect access token instead of identity traits.
	FranceConnect bool `json:"france_connect"`
}

// PullQuery says whose data to fetch and how.
type PullQuery struct {
	// Operations to run, by PullOperation.Name; empty means all.
	Operations []string
	// Person is the identity asked for: birth name, given names, sex,
	// birth date and place, and the NIR (Person.INS) when known.
	Person mapping.Person
	// Recipient is the SIRET of the establishment asking (API Particulier's
	// recipient).
	Recipient string
	// AccessToken, when set, is the citizen's FranceConnect access token:
	// the operations that can run in FranceConnect mode use it instead of
	// the identity traits. It never outlives the consent's session.
	AccessToken Secret
	// Month is the month asked for, for rights computed monthly (family
	// quotient); zero means the platform's default (the current month).
	Month mapping.BenefitPeriod
	// Fresh asks for data not served from the platform's cache
	// (Cache-Control: no-cache). Default: the platform may answer from its
	// cache.
	Fresh bool
}

// PullItem is the outcome of one operation. Exactly one of Err and the data
// fields is set.
type PullItem struct {
	Operation string
	// Err is the failure, classified: see OutcomeOf.
	Err error
	// Identity is the identity the platform returned, for matching against
	// the one asked; nil when it returned none.
	Identity *mapping.Person
	// Household is the household the platform returned (CAF/MSA).
	Household  *mapping.Household
	Benefits   []mapping.Benefit
	Employment *mapping.EmploymentRegistration
	Payments   []mapping.Payment
	// Provider is the body the data comes from (CNAF, MSA, FRANCE_TRAVAIL).
	Provider mapping.Provider
	// Cached reports that the platform answered from its cache, and
	// FetchedAt is when it fetched the data from the provider (our clock
	// when it does not say).
	Cached    bool
	FetchedAt time.Time
}

// Outcome is the canonical result of one pull operation.
type Outcome string

// Outcomes.
const (
	OutcomeOK       Outcome = "ok"
	OutcomeNotFound Outcome = "not_found"
	// OutcomeUnavailable: the breaker is open or the provider is down.
	OutcomeUnavailable Outcome = "unavailable"
	OutcomeRateLimited Outcome = "rate_limited"
	OutcomeTimeout     Outcome = "timeout"
	// OutcomeRefused: credentials, scope, consent, mandate or a missing
	// recipient; retrying as is will not help.
	OutcomeRefused Outcome = "refused"
	OutcomeError   Outcome = "error"
)

// OutcomeOf returns the canonical outcome of a pull operation's error: nil
// is ok; an *Error's own Outcome when the connector set it (from the
// platform's error code); an open breaker is unavailable; a try never sent
// because the rate limit's wait would outlast the deadline is rate_limited;
// a deadline or a timeout is timeout; otherwise the HTTP status and class
// decide.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	if _, ok := errors.AsType[*BreakerOpenError](err); ok {
		return OutcomeUnavailable
	}
	ce, isErr := errors.AsType[*Error](err)
	if isErr && ce.Outcome != "" {
		return ce.Outcome
	}
	if IsRateLimitWait(err) {
		return OutcomeRateLimited
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return OutcomeTimeout
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return OutcomeTimeout
	}
	if !isErr {
		return OutcomeError
	}
	switch {
	case ce.Class == NotFound:
		return OutcomeNotFound
	case ce.Status == http.StatusTooManyRequests:
		return OutcomeRateLimited
	case ce.Status == http.StatusGatewayTimeout, ce.Status == http.StatusRequestTimeout:
		return OutcomeTimeout
	case ce.Status == http.StatusBadGateway, ce.Status == http.StatusServiceUnavailable:
		return OutcomeUnavailable
	case ce.Status == http.StatusUnauthorized, ce.Status == http.StatusForbidden:
		return OutcomeRefused
	default:
		return OutcomeError
	}
}
