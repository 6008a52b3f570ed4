package apiparticulier

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// maxAnswer bounds what is read of a successful answer; the largest, a
// quotient familial of a large household, is a few kilobytes.
const maxAnswer = 1 << 20

// pull runs one operation and maps its answer.
func (c *Client) pull(ctx context.Context, op operation, q *connectors.PullQuery, in *inputs) connectors.PullItem {
	item := connectors.PullItem{Operation: op.Name, Provider: op.provider}
	opName := "pulling " + op.Name
	stack, build := c.request(op, q, in)
	resp, err := stack.Do(ctx, opName, build)
	if err != nil {
		item.Err = withoutQuery(err)
		return item
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := classify(resp, opName, c.now())
		drainAndClose(resp.Body)
		item.Err = e
		if e.Code == "10003" {
			item.Provider = mapping.ProviderMSA
		}
		return item
	}
	body, err := connectors.ReadAnswer(resp, opName, c.now(), maxAnswer)
	drainAndClose(resp.Body)
	if err != nil {
		item.Err = err
		return item
	}
	item.Cached, item.FetchedAt = c.freshness(resp.Header)
	if err := c.mapAnswer(op, q, body, &item); err != nil {
		item = connectors.PullItem{Operation: op.Name, Provider: op.provider, Err: err}
	}
	return item
}

// drainAndClose reads a little of a body so the connection can be reused,
// then closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// freshness reads the platform's cache headers: X-Response-Cached, and
// X-Cache-Expires-in, the seconds the cached answer has left, from which
// the time it was fetched from the provider follows (Config.CacheTTL
// before its expiry). A fresh answer, or a cached one that does not say,
// was fetched now by the connector's clock.
func (c *Client) freshness(h http.Header) (bool, time.Time) {
	now := c.now()
	cached, _ := strconv.ParseBool(strings.TrimSpace(h.Get("X-Response-Cached")))
	if !cached {
		return false, now
	}
	left, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Cache-Expires-In")), 64)
	ttl := c.cfg.CacheTTL.Seconds()
	if err != nil || !(left >= 0 && left <= ttl) {
		return true, now
	}
	return true, now.Add(-time.Duration((ttl - left) * float64(time.Second)))
}

// answer is the output of the operations' mapping specs
// (mapping/specs/apiparticulier/<operation>.inbound.yaml).
type answer struct {
	Household  *mapping.Household              `json:"household"`
	Benefit    *mapping.Benefit                `json:"benefit"`
	Employment *mapping.EmploymentRegistration `json:"employment_registration"`
	Identity   *mapping.Person                 `json:"identity"`
	Payments   []mapping.Payment               `json:"payments"`
}

// mapAnswer maps a successful answer into item through the operation's
// spec, which validates the answer against the platform's schema and the
// result against the canonical model.
func (c *Client) mapAnswer(op operation, q *connectors.PullQuery, body []byte, item *connectors.PullItem) error {
	opName := "pulling " + op.Name + ": mapping the answer"
	res, err := c.plans.answers[op.Name].Run(body, engine.RunOptions{Source: engine.Source{At: item.FetchedAt, Cached: item.Cached}})
	if err != nil {
		return mappingError(opName, err)
	}
	var out answer
	if err := json.Unmarshal(res.Output, &out); err != nil {
		return &connectors.Error{Class: connectors.Permanent, Outcome: connectors.OutcomeError, Op: opName, Err: err}
	}
	switch op.route {
	case routeDSS:
		if out.Benefit == nil {
			return &connectors.Error{Class: connectors.Permanent, Outcome: connectors.OutcomeError, Op: opName + ": no benefit in the mapped answer"}
		}
		item.Benefits = []mapping.Benefit{*out.Benefit}
		item.Provider = out.Benefit.Provider
		if out.Household != nil {
			item.Household = out.Household
			item.Identity = pickAllocataire(out.Household.Allocataires, &q.Person)
		}
	case routeFranceTravail:
		item.Employment = out.Employment
		item.Identity = out.Identity
		if op.Name == OpFranceTravailIndemnites {
			item.Payments = out.Payments
			if item.Payments == nil {
				item.Payments = []mapping.Payment{}
			}
		}
	}
	return nil
}

// mappingError classifies an answer the spec could not map. Bytes that are
// not JSON are a cut or garbled answer (a proxy's page, a dropped
// connection): Retryable. JSON the platform's schema or the canonical model
// refuses is the platform's contract changing: Permanent, so operators see
// it. The engine's errors name the fields, never their values.
func mappingError(op string, err error) error {
	class := connectors.Permanent
	if errors.Is(err, &engine.Error{Code: engine.CodeBadJSON}) {
		class = connectors.Retryable
	}
	if errs, ok := errors.AsType[engine.Errors](err); ok {
		err = &answerErrors{errs: errs}
	}
	return &connectors.Error{Class: class, Outcome: connectors.OutcomeError, Op: op, Err: err}
}

// answerErrors are the engine's errors about an answer, told with the
// field of the answer each comes from, so that an operator reading
// "data.inscription.date_debut → employment_registration.start_date:
// required" knows what the platform changed.
type answerErrors struct{ errs engine.Errors }

func (a *answerErrors) Error() string {
	var b strings.Builder
	for i, e := range a.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		if e.Source != "" && e.Source != e.Path {
			b.WriteString(e.Source)
			b.WriteString(" → ")
		}
		b.WriteString(e.Path)
		b.WriteString(": ")
		b.WriteString(e.Code)
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As the engine's errors.
func (a *answerErrors) Unwrap() error { return a.errs }

// withoutQuery drops the query string of a *url.Error at the top of err.
// The stack's errors lose it (connectors.ClassifyTransportError), except an
// open breaker's, which passes through with the URL, whose query holds the
// identity parameters.
func withoutQuery(err error) error {
	ue, ok := err.(*url.Error) //nolint:errorlint // only the outermost error, as http.Client returns it
	if !ok {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "(unparsable URL)", Err: ue.Err}
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}

// pickAllocataire returns the allocataire who is the person asked about,
// for identity matching: the one whose names and birth date agree best with
// asked (names compared without case, accents, hyphens or apostrophes), the
// first one (the allocataire the platform found) when none agrees or asked
// is empty. Whether the identity really matches is for the caller to judge.
func pickAllocataire(allocataires []mapping.Person, asked *mapping.Person) *mapping.Person {
	if len(allocataires) == 0 {
		return nil
	}
	best, bestScore := 0, 0
	for i := range allocataires {
		if s := agreement(&allocataires[i], asked); s > bestScore {
			best, bestScore = i, s
		}
	}
	p := allocataires[best]
	return &p
}

// agreement scores how much of asked's identity p shares: a family name
// (birth or used, either way), the first given name, the birth date.
func agreement(p, asked *mapping.Person) int {
	score := 0
	names := func(x *mapping.Person) []string {
		var out []string
		for _, n := range []string{x.BirthFamilyName, x.UsedName} {
			if n = normalizeName(n); n != "" {
				out = append(out, n)
			}
		}
		return out
	}
	pn, an := names(p), names(asked)
nameMatch:
	for _, a := range an {
		for _, b := range pn {
			if a == b {
				score += 2
				break nameMatch
			}
		}
	}
	if f := normalizeName(asked.FirstGivenName()); f != "" && f == normalizeName(p.FirstGivenName()) {
		score++
	}
	if asked.BirthDate != "" && p.BirthDate != "" && asked.BirthDate.Matches(p.BirthDate) {
		score++
	}
	return score
}

// normalizeName puts a name in the form the platform compares: upper case,
// no accents, hyphens and apostrophes as spaces, spaces collapsed.
func normalizeName(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.Map(func(r rune) rune {
		switch r {
		case '-', '\'', '’', '‐', '‑':
			return ' '
		}
		return unicode.ToUpper(r)
	}, out)
	return strings.Join(strings.Fields(out), " ")
}
