package francetravail_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/mapping"
	mockft "github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

// errorCode returns the platform code of err's *connectors.Error.
func errorCode(err error) string {
	if ce, ok := errors.AsType[*connectors.Error](err); ok {
		return ce.Code
	}
	return ""
}

// The sandbox persons give each outcome of the search, and the data of the
// registrations that end or are not certified.
func TestPullSandboxPersons(t *testing.T) {
	t.Parallel()
	vega := mapping.Person{
		BirthFamilyName: "Vega", GivenNames: []string{"Tiphaine"}, Sex: mapping.SexFemale, BirthDate: "1992-08-15",
		BirthPlaceCOG: "2A004", INS: &mapping.INS{Value: "292082A00406659", System: mapping.INSSystemNIR},
	}
	mallette := mapping.Person{
		BirthFamilyName: "Mallette", GivenNames: []string{"Alex"}, Sex: mapping.SexFemale, BirthDate: "1992-08-15",
		BirthPlaceCOG: "31555", INS: &mapping.INS{Value: "292083155507178", System: mapping.INSSystemNIR},
	}
	for _, tt := range []struct {
		name    string
		person  mapping.Person
		outcome connectors.Outcome
		code    string
		check   func(t *testing.T, items []connectors.PullItem)
	}{
		{name: "found_with_payments", person: courtet(), outcome: connectors.OutcomeOK, check: func(t *testing.T, items []connectors.PullItem) {
			for i := range items {
				if err := checkCourtet(&items[i]); err != nil {
					t.Error(err)
				}
			}
		}},
		{name: "corsican_nir", person: vega, outcome: connectors.OutcomeOK, check: func(t *testing.T, items []connectors.PullItem) {
			if e := items[0].Employment; e == nil || e.Identifier != "123460A" {
				t.Errorf("registration %+v, want 123460A", e)
			}
			if p := items[1].Payments; p == nil || len(p) != 0 {
				t.Errorf("payments %#v, want an empty list: no payment is data too", p)
			}
		}},
		{name: "registration_ended", person: mallette, outcome: connectors.OutcomeOK, check: func(t *testing.T, items []connectors.PullItem) {
			if e := items[0].Employment; e == nil || e.StartDate != "2024-09-01" || e.EndDate != "2025-09-01" {
				t.Errorf("registration %+v, want 2024-09-01 to 2025-09-01", e)
			}
		}},
		{name: "nobody_S002", person: unknown(), outcome: connectors.OutcomeNotFound, code: "S002"},
		{name: "several_files_S003", person: fornaro(), outcome: connectors.OutcomeNotFound, code: "S003"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockft.Options{}, nil)
			items, err := b.source.Pull(context.Background(), query(tt.person))
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if len(items) != 2 || items[0].Operation != francetravail.OpStatut || items[1].Operation != francetravail.OpIndemnites {
				t.Fatalf("items %+v, want statut then indemnites", items)
			}
			for _, it := range items {
				if got := connectors.OutcomeOf(it.Err); got != tt.outcome || errorCode(it.Err) != tt.code {
					t.Errorf("%s: %s code %q (%v), want %s code %q", it.Operation, got, errorCode(it.Err), it.Err, tt.outcome, tt.code)
				}
			}
			if tt.check != nil {
				tt.check(t, items)
			}
			// One search for both reads.
			if n := b.mock.Stats().ByOperation["usagers.search_by_nir"]; n != 1 {
				t.Errorf("%d searches, want 1", n)
			}
		})
	}
}

// A query France Travail cannot answer fails Pull, before any call.
func TestPullInvalidQuery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		q    func() *connectors.PullQuery
	}{
		{"unknown_operation", func() *connectors.PullQuery { return query(courtet(), "quotient_familial") }},
		{"no_nir", func() *connectors.PullQuery { p := courtet(); p.INS = nil; return query(p) }},
		{"wrong_key", func() *connectors.PullQuery {
			p := courtet()
			p.INS = &mapping.INS{Value: "290013155501299", System: mapping.INSSystemNIR}
			return query(p)
		}},
		{"partial_birth_date", func() *connectors.PullQuery { p := courtet(); p.BirthDate = "1990-01"; return query(p) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockft.Options{}, nil)
			items, err := b.source.Pull(context.Background(), tt.q())
			if !errors.Is(err, connectors.ErrInvalidQuery) || items != nil {
				t.Fatalf("Pull: %d items, %v; want connectors.ErrInvalidQuery", len(items), err)
			}
			if strings.Contains(err.Error(), "2900131555012") {
				t.Errorf("the error %q quotes the NIR", err)
			}
			if n := b.mock.Stats().Requests; n != 0 {
				t.Errorf("%d requests for a query that cannot run", n)
			}
		})
	}
}

// The access token is fetched once for many pulls, with the client id and
// secret in the form, as France Travail documents it.
func TestTokenCached(t *testing.T) {
	t.Parallel()
	b := setup(t, mockft.Options{}, nil)
	for range 5 {
		items, err := b.source.Pull(context.Background(), query(courtet()))
		if err != nil || items[0].Err != nil || items[1].Err != nil {
			t.Fatalf("Pull: %v %+v", err, items)
		}
	}
	if tokens, _ := b.mock.Issued(); tokens != 1 {
		t.Errorf("%d tokens issued for 5 pulls, want 1", tokens)
	}
	var tokenRequests []recorded
	for _, r := range b.requests.all() {
		if strings.HasPrefix(r.uri, "/connexion/oauth2/access_token") {
			tokenRequests = append(tokenRequests, r)
		}
	}
	if len(tokenRequests) != 1 {
		t.Errorf("%d token requests, want 1", len(tokenRequests))
	}
	for _, r := range tokenRequests {
		if r.header.Get("Authorization") != "" {
			t.Errorf("a token request sends the credentials in an Authorization header; France Travail takes them in the form")
		}
		if r.uri != "/connexion/oauth2/access_token?realm=%2Fpartenaire" {
			t.Errorf("token request to %s, want the /partenaire realm", r.uri)
		}
	}
	if st := b.mock.Stats(); st.Violations != 0 {
		t.Errorf("%d requests broke the contract", st.Violations)
	}
}

// A token the platform no longer accepts (expired by its clock, or
// forgotten) is fetched again, once, and the pull goes on.
func TestTokenRefreshed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		revoke func(b *bundle)
	}{
		{"expired", func(b *bundle) { b.clock.Advance(mockft.DefaultTokenTTL + time.Second) }},
		{"forgotten", func(b *bundle) { b.mock.Reset() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockft.Options{}, nil)
			pull := func() {
				t.Helper()
				items, err := b.source.Pull(context.Background(), query(courtet(), francetravail.OpStatut))
				if err != nil || items[0].Err != nil {
					t.Fatalf("Pull: %v %+v", err, items)
				}
			}
			pull()
			tokens, _ := b.mock.Issued()
			tt.revoke(b)
			if tt.name == "forgotten" {
				tokens = 0
			}
			searches := b.mock.Stats().ByOperation["usagers.search_by_nir"]
			pull()
			if got, _ := b.mock.Issued(); got-tokens != 1 {
				t.Errorf("%d tokens issued after the revocation, want 1", got-tokens)
			}
			if n := b.mock.Stats().ByOperation["usagers.search_by_nir"] - searches; n != 2 {
				t.Errorf("%d searches, want 2: refused with 401, then sent with the fresh token", n)
			}
		})
	}
}

// Refusals of our credentials or scopes are refused, with the platform's
// code, and never retried as is.
func TestRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		tune   func(*francetravail.Config)
		op     string
		status int
		code   string
	}{
		{"wrong_secret", func(c *francetravail.Config) { c.ClientSecret = "not-the-secret" }, francetravail.OpStatut, http.StatusUnauthorized, "invalid_client"},
		{"unknown_scope", func(c *francetravail.Config) { c.Scopes = []string{"api_inconnue"} }, francetravail.OpStatut, http.StatusBadRequest, "invalid_scope"},
		{"scope_missing", func(c *francetravail.Config) { c.Scopes = []string{"api_rechercher-usagerv2"} }, francetravail.OpIndemnites, http.StatusForbidden, "INSUFFICIENT_SCOPE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockft.Options{}, tt.tune)
			items, err := b.source.Pull(context.Background(), query(courtet(), tt.op))
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			err = items[0].Err
			ce, ok := errors.AsType[*connectors.Error](err)
			if !ok || connectors.OutcomeOf(err) != connectors.OutcomeRefused || ce.Code != tt.code || ce.Status != tt.status || ce.Class != connectors.Permanent {
				t.Fatalf("error %v (%+v), want refused, Permanent, HTTP %d, code %s", err, ce, tt.status, tt.code)
			}
			if strings.Contains(err.Error(), string(mockft.DefaultClientSecret)) {
				t.Errorf("the error quotes the client secret")
			}
			if st := b.source.Status(); st.LastFailure == nil || !strings.Contains(st.LastError, "refused "+tt.code) {
				t.Errorf("status %+v, want the last failure with its outcome and code", st)
			}
		})
	}
}

// Neither the NIR, nor the birth date, nor the person token is ever in a
// URL, a log line or an error, whatever happens to the pull.
func TestPersonalDataNeverInURLOrLog(t *testing.T) {
	t.Parallel()
	b := setup(t, mockft.Options{}, nil)
	p := courtet()
	pull := func(person mapping.Person) []connectors.PullItem {
		t.Helper()
		items, err := b.source.Pull(context.Background(), query(person))
		if err != nil {
			t.Fatalf("Pull: %v", err)
		}
		return items
	}
	var errs []string
	collect := func(items []connectors.PullItem) {
		for _, it := range items {
			if it.Err != nil {
				errs = append(errs, it.Err.Error())
			}
		}
	}
	collect(pull(p))
	collect(pull(unknown()))
	collect(pull(fornaro()))
	b.setFaults(t, platform.Rule{Operations: []string{"situation.registration"}, Drift: []platform.Drift{{Kind: platform.DriftRetype, Path: "/identite/nomNaissance", To: "object"}}})
	collect(pull(p))
	b.setFaults(t, platform.Rule{Operations: []string{"usagers.search_by_nir"}, Status: http.StatusServiceUnavailable})
	collect(pull(p))
	if len(errs) < 4 {
		t.Fatalf("%d errors, want the failing pulls' (the test proves little)", len(errs))
	}

	nir := p.INS.Value
	secrets := []string{nir, nir[:13], "1990-01-06", "19900106", "Courtet", "Martine", "sbx-"}
	var jetons []string
	for _, r := range b.requests.all() {
		if j := r.header.Get("ft-jeton-usager"); j != "" {
			jetons = append(jetons, j)
		}
		if containsAny(r.uri, secrets...) {
			t.Errorf("%s %s carries personal data in its URL", r.method, r.uri)
		}
	}
	if len(jetons) == 0 {
		t.Fatal("no read carried a person token")
	}
	secrets = append(secrets, jetons...)
	logged := b.log.String()
	if !strings.Contains(logged, `"msg":"platform call"`) {
		t.Fatal("the source logged no call: the test proves nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logged, s) {
			t.Errorf("the log holds personal data or a person token (%d characters)", len(s))
		}
		for _, e := range errs {
			if strings.Contains(e, s) {
				t.Errorf("the error %q holds personal data or a person token", e)
			}
		}
	}
}

// A slow answer is waited for up to the deadline, not cut at the stack's
// own default; past the deadline the pull times out.
func TestDeadline(t *testing.T) {
	t.Parallel()
	if got := (francetravail.Config{}).WithDefaults(); got.Deadline != francetravail.DefaultDeadline || got.Stack.Timeout != francetravail.DefaultDeadline {
		t.Errorf("defaults: deadline %s, per-try timeout %s; want both %s", got.Deadline, got.Stack.Timeout, francetravail.DefaultDeadline)
	}
	for _, tt := range []struct {
		name     string
		deadline time.Duration
		want     connectors.Outcome
	}{
		{"answer_before_the_deadline", 10 * time.Second, connectors.OutcomeOK},
		{"answer_after_the_deadline", 100 * time.Millisecond, connectors.OutcomeTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockft.Options{}, func(c *francetravail.Config) { c.Deadline = tt.deadline })
			b.setFaults(t, platform.Rule{Operations: []string{"situation.registration"}, Latency: &platform.Latency{Median: platform.Duration(400 * time.Millisecond)}})
			items, err := b.source.Pull(context.Background(), query(courtet(), francetravail.OpStatut))
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if got := connectors.OutcomeOf(items[0].Err); got != tt.want {
				t.Errorf("outcome %s (%v), want %s", got, items[0].Err, tt.want)
			}
		})
	}
}

// The source keeps to its own rate, below the platform's limit: parallel
// pulls wait for their turn instead of being refused.
func TestThrottlesItself(t *testing.T) {
	t.Parallel()
	if got := (francetravail.Config{}).WithDefaults().Stack.RateLimit; got.RequestsPerSecond != 3 || got.Burst != 1 {
		t.Errorf("default rate limit %+v, want 3 requests per second, burst 1", got)
	}
	// The platform's window runs on the wall clock here, as the source's
	// bucket does.
	b := setup(t, mockft.Options{Now: time.Now, RateLimit: platform.RateLimit{Limit: 10, Window: time.Second}}, func(c *francetravail.Config) {
		c.Stack.RateLimit = connectors.RateLimitConfig{RequestsPerSecond: 10, Burst: 1}
	})
	const pulls = 6
	errs := make(chan error, pulls)
	for range pulls {
		go func() {
			items, err := b.source.Pull(context.Background(), query(courtet(), francetravail.OpStatut))
			if err == nil {
				err = items[0].Err
			}
			errs <- err
		}()
	}
	for range pulls {
		if err := <-errs; err != nil {
			t.Errorf("pull: %v", err)
		}
	}
	if n := b.mock.Stats().RateLimited; n != 0 {
		t.Errorf("the platform refused %d requests for their rate", n)
	}
	if st := b.source.Status().RateLimit; st.Waits == 0 || st.RequestsPerSecond != 10 {
		t.Errorf("rate limit status %+v, want waits at 10 requests per second", st)
	}
}
