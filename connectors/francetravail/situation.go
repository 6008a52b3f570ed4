package francetravail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// The reads of a person's situation, with the person token.
const (
	registrationPath = "/situation-usager/v1/inscription"
	paymentsPath     = "/situation-usager/v1/paiements"
)

// read runs one operation with the person token and fills item: its data
// mapped by the operation's spec, or its error.
func (c *Client) read(ctx context.Context, jeton connectors.Secret, item *connectors.PullItem) {
	op := "reading " + item.Operation
	u := c.cfg.BaseURL + registrationPath
	if item.Operation == OpIndemnites {
		from, to := c.paymentPeriod()
		u = c.cfg.BaseURL + paymentsPath + "?" + url.Values{"dateDebut": {from}, "dateFin": {to}}.Encode()
	}
	header := http.Header{}
	header.Set("ft-jeton-usager", jeton.Reveal())
	body, at, err := c.send(ctx, op, request(http.MethodGet, u, nil, header))
	if err == nil {
		err = c.mapAnswer(op, body, at, item)
	}
	if err != nil {
		*item = connectors.PullItem{Operation: item.Operation, Err: err}
		return
	}
	item.Provider = mapping.ProviderFranceTravail
	item.FetchedAt = at
}

// paymentPeriod is the period whose payments are read: the first day of
// the month Config.PaymentMonths-1 months ago, to today (UTC).
func (c *Client) paymentPeriod() (string, string) {
	now := c.now().UTC()
	from := time.Date(now.Year(), now.Month()-time.Month(c.cfg.PaymentMonths-1), 1, 0, 0, 0, 0, time.UTC)
	return from.Format(time.DateOnly), now.Format(time.DateOnly)
}

// registrationOutput and paymentsOutput are the specs' outputs.
type registrationOutput struct {
	Employment *mapping.EmploymentRegistration `json:"employment_registration"`
	Person     *mapping.Person                 `json:"person"`
}

type paymentsOutput struct {
	Payments []mapping.Payment `json:"payments"`
}

// mapAnswer maps a success answer with the operation's spec, then checks
// the canonical values. An answer that is not JSON is Retryable; one that
// breaks the contract, or maps to invalid canonical data, is a Permanent
// error whose text names the fields (never their values).
func (c *Client) mapAnswer(op string, body []byte, at time.Time, item *connectors.PullItem) error {
	if !json.Valid(body) {
		return &connectors.Error{Class: connectors.Retryable, Op: op + ": decoding the answer: not JSON"}
	}
	res, err := c.plans[item.Operation].Run(body, engine.RunOptions{Source: engine.Source{At: at}})
	if err != nil {
		return &connectors.Error{Class: connectors.Permanent, Op: op + ": contract: " + err.Error(), Outcome: connectors.OutcomeError, Err: err}
	}
	var problems []*mapping.FieldError
	switch item.Operation {
	case OpStatut:
		var out registrationOutput
		if err := json.Unmarshal(res.Output, &out); err != nil || out.Employment == nil || out.Person == nil {
			return mappingError(op, err)
		}
		problems = append(prefixed("employment_registration", out.Employment.Validate()), prefixed("person", out.Person.Validate())...)
		item.Employment, item.Identity = out.Employment, out.Person
	case OpIndemnites:
		var out paymentsOutput
		if err := json.Unmarshal(res.Output, &out); err != nil {
			return mappingError(op, err)
		}
		for i := range out.Payments {
			problems = append(problems, prefixed(fmt.Sprintf("payments[%d]", i), out.Payments[i].Validate())...)
		}
		// No payment in the period is data too: an empty list.
		item.Payments = append([]mapping.Payment{}, out.Payments...)
	}
	if len(problems) > 0 {
		return invalidData(op, problems)
	}
	return nil
}

func mappingError(op string, err error) error {
	if err == nil {
		err = errors.New("the mapped output lacks an entity")
	}
	return &connectors.Error{Class: connectors.Permanent, Op: op + ": decoding the mapped output", Outcome: connectors.OutcomeError, Err: err}
}

// prefixed puts prefix before the fields of errs.
func prefixed(prefix string, errs []*mapping.FieldError) []*mapping.FieldError {
	for _, e := range errs {
		e.Field = prefix + "." + e.Field
	}
	return errs
}

// invalidData is an answer that follows the contract but whose values the
// canonical model refuses (an end before the start, say).
func invalidData(op string, problems []*mapping.FieldError) error {
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = p.Field + ": " + p.Detail
	}
	return &connectors.Error{Class: connectors.Permanent, Op: op + ": invalid_data: " + strings.Join(parts, "; "), Outcome: connectors.OutcomeError}
}
