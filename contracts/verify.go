package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/relais-dev/relais/connectors"
)

// maxBody bounds the answers read; a larger body is a transport violation.
const maxBody = 32 << 20

// Verify runs p's cases against t and checks every answer against p.Spec:
// the status expected and documented, the Content-Type among the documented
// media types, the documented required headers, the body against its schema
// (openapi3filter, every error with its JSON path) and the structural diff
// (fields added, removed or retyped, see Compare). It adds automatic checks:
// an operation no case expects a success from is a violation
// (unchecked_operation); each secured operation with no AuthNone case is
// called once without credentials and must answer its documented 401 (or
// 403); against our mock (t.Mock), each operation is called with its
// documented input examples alone and must answer a documented 2xx (the
// "<operation>.examples" check, which keeps the examples a reader copies
// working); the RateLimit-* headers, where a success documents them, must
// be integers with Remaining <= Limit.
//
// Credentials come from getenv (Credential.Env), or are the mock's default
// when the variable is unset; their values never appear in the report.
// Verify never fails as a function: every problem, the contract's own
// included, is a violation in the report.
func Verify(ctx context.Context, p Platform, t Target, getenv func(string) string) Report {
	rep, _ := newRun(p, t, getenv).exec(ctx)
	return rep
}

// Diff runs p's cases against t like Verify and returns only the
// structural changes of the JSON bodies (see Compare), ordered as the cases
// ran, each once per operation and status: a change several checks of an
// operation show (a case and the examples check, say) is listed with the
// first. The error reports what kept Diff from comparing: a contract that
// does not load, a failed Authorize, cases with no complete answer.
func Diff(ctx context.Context, p Platform, t Target, getenv func(string) string) ([]Change, error) {
	rep, changes := newRun(p, t, getenv).exec(ctx)
	var errs []error
	for _, res := range rep.Results {
		for _, v := range res.Violations {
			switch v.Kind {
			case KindContract, KindAuth, KindTransport:
				errs = append(errs, fmt.Errorf("%s: %s: %s", p.Name, res.Case, v.Detail))
			}
		}
	}
	type key struct {
		op                    string
		status                int
		kind, path, want, got string
	}
	seen := map[key]bool{}
	changes = slices.DeleteFunc(changes, func(c Change) bool {
		k := key{c.Operation, c.Status, c.Kind, c.Path, c.Want, c.Got}
		dup := seen[k]
		seen[k] = true
		return dup
	})
	return changes, errors.Join(errs...)
}

// run is one Verify or Diff.
type run struct {
	p      Platform
	t      Target
	getenv func(string) string

	doc     *openapi3.T
	ops     map[string]*operation
	creds   map[string]string
	secrets []string
	auth    Authorizer
	// authFailed is set when Authorize failed: the checks that need
	// credentials are skipped.
	authFailed bool
	changes    []Change
}

// operation is one operation of the contract with where it lives.
type operation struct {
	id, method, path string
	item             *openapi3.PathItem
	op               *openapi3.Operation
}

func newRun(p Platform, t Target, getenv func(string) string) *run {
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	if t.Client == nil {
		t.Client = &http.Client{}
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &run{p: p, t: t, getenv: getenv}
}

func (r *run) exec(ctx context.Context) (rep Report, changes []Change) {
	start := time.Now()
	rep = Report{Platform: r.p.Name, Mock: r.t.Mock}
	if r.t.BaseURL != nil {
		rep.Target = r.t.BaseURL.String()
	}
	rep.Credentials = r.resolveCredentials()
	defer func() { rep.Duration = time.Since(start) }()

	if err := r.load(ctx); err != nil {
		rep.Results = append(rep.Results, Result{Case: "contract", Violations: []Violation{{Kind: KindContract, Detail: err.Error()}}})
		if r.doc == nil {
			r.redact(&rep)
			return rep, nil
		}
	}
	if r.t.BaseURL == nil {
		rep.Results = append(rep.Results, Result{Case: "target", Violations: []Violation{{Kind: KindContract, Detail: "the target has no base URL"}}})
		return rep, nil
	}

	if r.p.Authorize != nil && r.needsAuth() {
		actx, cancel := context.WithTimeout(ctx, r.t.Timeout)
		began := time.Now()
		auth, err := r.p.Authorize(actx, r.t, maps.Clone(r.creds))
		cancel()
		if err != nil {
			r.authFailed = true
			rep.Results = append(rep.Results, Result{Case: "authorize", Duration: time.Since(began), Auto: true,
				Violations: []Violation{{Kind: KindAuth, Detail: fmt.Sprintf("authorizing: %v", err)}}})
		}
		r.auth = auth
	}

	seen := map[string]bool{}
	for _, c := range r.p.Cases {
		res := Result{Case: c.Name, Operation: c.Operation, Status: c.Status}
		switch {
		case c.Name == "" || seen[c.Name]:
			res.Violations = append(res.Violations, Violation{Kind: KindContract, Detail: fmt.Sprintf("the case name %q is empty or not unique", c.Name)})
		case r.ops[c.Operation] == nil:
			res.Violations = append(res.Violations, Violation{Kind: KindContract, Detail: fmt.Sprintf("the contract has no operation %q", c.Operation)})
		case c.MockOnly && !r.t.Mock:
			res.Skipped = "runs only against the mock (relies on its fixtures)"
		case c.Auth == AuthValid && r.authFailed:
			res.Skipped = "authorization failed"
		default:
			r.call(ctx, r.ops[c.Operation], c, &res, callOpts{})
		}
		seen[c.Name] = true
		rep.Results = append(rep.Results, res)
	}
	rep.Results = append(rep.Results, r.autoChecks(ctx)...)
	r.redact(&rep)
	return rep, r.changes
}

// resolveCredentials fills r.creds and says where each came from.
func (r *run) resolveCredentials() []string {
	r.creds = make(map[string]string, len(r.p.Credentials))
	var out []string
	for _, c := range r.p.Credentials {
		v, from := r.getenv(c.Env), "environment"
		if v == "" {
			v, from = c.MockDefault, "mock default"
		}
		r.creds[c.Env] = v
		if c.Secret && len(v) >= 4 {
			r.secrets = append(r.secrets, v)
		}
		out = append(out, c.Env+": "+from)
	}
	return out
}

// redact replaces secret credential values in the report's details (an
// Authorize error or a body quoting them).
func (r *run) redact(rep *Report) {
	if len(r.secrets) == 0 {
		return
	}
	for i := range rep.Results {
		for j := range rep.Results[i].Violations {
			v := &rep.Results[i].Violations[j]
			for _, s := range r.secrets {
				v.Detail = strings.ReplaceAll(v.Detail, s, "***")
				v.Path = strings.ReplaceAll(v.Path, s, "***")
			}
		}
	}
}

func (r *run) needsAuth() bool {
	for _, c := range r.p.Cases {
		if c.Auth == AuthValid && (!c.MockOnly || r.t.Mock) {
			return true
		}
	}
	// The examples checks authenticate on the operations that have a
	// security requirement.
	if r.t.Mock {
		for _, o := range r.ops {
			if len(r.security(o)) > 0 {
				return true
			}
		}
	}
	return false
}

// load parses and validates the contract and indexes its operations. A
// document that loads but does not validate is still used.
func (r *run) load(ctx context.Context) error {
	doc, err := loadSpec(ctx, r.p.Name, r.p.Spec)
	if doc == nil {
		return err
	}
	r.doc = doc
	r.ops = map[string]*operation{}
	if doc.Paths != nil {
		for _, pth := range doc.Paths.InMatchingOrder() {
			item := doc.Paths.Value(pth)
			for method, op := range item.Operations() {
				r.ops[op.OperationID] = &operation{id: op.OperationID, method: method, path: pth, item: item, op: op}
			}
		}
	}
	return err
}

// Retrying answers 429: a case that does not expect 429 is sent again after
// the Retry-After the target asks for (at most maxRetryWait, default
// defaultRetryWait), up to maxRetries times, as a polite client would.
const (
	maxRetries       = 5
	maxRetryWait     = 30 * time.Second
	defaultRetryWait = time.Second
)

// callOpts are how the automatic checks differ from a case.
type callOpts struct {
	// allHeaders sends the example of every header parameter, not only of
	// the required ones.
	allHeaders bool
	// anySuccess accepts any 2xx the operation documents in place of
	// c.Status.
	anySuccess bool
}

// call runs one case and records its violations in res.
func (r *run) call(ctx context.Context, o *operation, c Case, res *Result, opts callOpts) {
	if _, ok := r.response(o, c.Status); !ok {
		res.Violations = append(res.Violations, Violation{Kind: KindStatus, Detail: fmt.Sprintf("the case expects %d, which the contract does not document for %s", c.Status, o.id)})
	}
	for attempt := 0; ; attempt++ {
		req, rsp, body, ok := r.send(ctx, o, c, res, opts.allHeaders)
		if !ok {
			return
		}
		if rsp.StatusCode == http.StatusTooManyRequests && c.Status != http.StatusTooManyRequests && attempt < maxRetries {
			if wait, ok := retryAfter(rsp.Header, time.Now()); ok && wait <= maxRetryWait && sleep(ctx, wait) == nil {
				res.RateLimited++
				continue
			}
		}
		if opts.anySuccess && rsp.StatusCode >= 200 && rsp.StatusCode < 300 && o.op.Responses != nil && o.op.Responses.Status(rsp.StatusCode) != nil {
			c.Status, res.Status = rsp.StatusCode, rsp.StatusCode
		}
		res.Violations = append(res.Violations, r.check(ctx, o, c, req, rsp, body)...)
		return
	}
}

// send builds and sends the request of c and reads the answer, bounded by
// the target's timeout; on failure it records the violation in res and
// returns false.
func (r *run) send(ctx context.Context, o *operation, c Case, res *Result, allHeaders bool) (*http.Request, *http.Response, []byte, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.t.Timeout)
	defer cancel()
	req, err := r.buildRequest(ctx, o, c, allHeaders)
	if err != nil {
		res.Violations = append(res.Violations, Violation{Kind: KindContract, Detail: err.Error()})
		return nil, nil, nil, false
	}
	began := time.Now()
	rsp, err := r.t.Client.Do(req)
	if err != nil {
		res.Duration = time.Since(began)
		res.Violations = append(res.Violations, Violation{Kind: KindTransport, Detail: fmt.Sprintf("sending %s %s: %v", req.Method, req.URL.Path, err)})
		return nil, nil, nil, false
	}
	body, err := io.ReadAll(io.LimitReader(rsp.Body, maxBody+1))
	rsp.Body.Close()
	res.Duration = time.Since(began)
	res.Got = rsp.StatusCode
	if err != nil {
		res.Violations = append(res.Violations, Violation{Kind: KindTransport, Detail: fmt.Sprintf("reading the answer (%d bytes read): %v", len(body), err)})
		return nil, nil, nil, false
	}
	if len(body) > maxBody {
		res.Violations = append(res.Violations, Violation{Kind: KindTransport, Detail: fmt.Sprintf("the answer is larger than %d bytes", maxBody)})
		return nil, nil, nil, false
	}
	return req, rsp, body, true
}

// retryAfter is the wait a 429 asks for: Retry-After in seconds or as an
// HTTP date, else RateLimit-Reset in seconds, else defaultRetryWait.
// unixResetThreshold separates RateLimit-Reset values that are seconds left
// from those that are Unix times (1e9 s is 2001-09-09).
const unixResetThreshold = 1_000_000_000

func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); strings.TrimSpace(v) != "" {
		return connectors.ParseRetryAfter(v, now)
	}
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			// Platforms send either the seconds left (the IETF draft) or
			// the window's end as a Unix time (API Particulier): a value
			// past 2001-09-09 can only be the latter.
			if n >= unixResetThreshold {
				return max(time.Unix(int64(min(n, 1<<62)), 0).Sub(now), 0), true
			}
			return time.Duration(n) * time.Second, true
		}
	}
	return defaultRetryWait, true
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting to retry: %w", ctx.Err())
	}
}

// response returns the documented response for status (or default).
func (r *run) response(o *operation, status int) (*openapi3.Response, bool) {
	if o.op.Responses == nil {
		return nil, false
	}
	ref := o.op.Responses.Status(status)
	if ref == nil {
		ref = o.op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return nil, false
	}
	return ref.Value, true
}

// autoChecks are the checks Verify adds, per operation: coverage, the auth
// check and, against our mock, the examples check.
func (r *run) autoChecks(ctx context.Context) []Result {
	var out []Result
	byOp := map[string][]Case{}
	for _, c := range r.p.Cases {
		byOp[c.Operation] = append(byOp[c.Operation], c)
	}
	for _, id := range slices.Sorted(maps.Keys(r.ops)) {
		o := r.ops[id]
		cases := byOp[id]
		if !slices.ContainsFunc(cases, func(c Case) bool { return c.Status >= 200 && c.Status < 300 }) {
			out = append(out, Result{Case: id + ".coverage", Operation: id, Auto: true,
				Violations: []Violation{{Kind: KindUncheckedOperation, Detail: fmt.Sprintf("no case expects a success (2xx) from %s", id)}}})
		}
		if res, ok := r.noCredentialsCheck(ctx, o, cases); ok {
			out = append(out, res)
		}
		if r.t.Mock {
			out = append(out, r.examplesCheck(ctx, o))
		}
	}
	return out
}

// noCredentialsCheck calls a secured operation that no case calls without
// credentials, without credentials: it must answer its documented 401 (or
// 403). ok is false when the check does not apply.
func (r *run) noCredentialsCheck(ctx context.Context, o *operation, cases []Case) (res Result, ok bool) {
	id := o.id
	if !r.secured(o) || slices.ContainsFunc(cases, func(c Case) bool { return c.Auth == AuthNone }) {
		return Result{}, false
	}
	res = Result{Case: id + ".no_credentials", Operation: id, Auto: true}
	status := 0
	for _, s := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		if o.op.Responses != nil && o.op.Responses.Status(s) != nil {
			status = s
			break
		}
	}
	res.Status = status
	if status == 0 {
		res.Violations = append(res.Violations, Violation{Kind: KindStatus, Detail: fmt.Sprintf("%s is secured but documents neither 401 nor 403", id)})
		return res, true
	}
	// The inputs of the operation's first case, if any, else its
	// examples; no credentials.
	c := Case{Name: res.Case, Operation: id, Status: status, Auth: AuthNone}
	if len(cases) > 0 {
		base := cases[0]
		c.PathParams, c.Query, c.Body = base.PathParams, base.Query, base.Body
		c.Header = base.Header.Clone()
		if c.Header != nil {
			c.Header.Del("Authorization")
		}
	}
	r.call(ctx, o, c, &res, callOpts{})
	return res, true
}

// examplesCheck calls o with its documented input examples alone: the
// examples of its path, query and header parameters and of its request
// body, no case's inputs, with credentials when o has a security
// requirement. It must answer a 2xx the contract documents. It runs only
// against our mock, whose fixtures are what the examples name.
func (r *run) examplesCheck(ctx context.Context, o *operation) Result {
	res := Result{Case: o.id + ".examples", Operation: o.id, Auto: true}
	successes := r.successes(o)
	if len(successes) == 0 {
		res.Violations = append(res.Violations, Violation{Kind: KindStatus, Detail: fmt.Sprintf("%s documents no success (2xx)", o.id)})
		return res
	}
	c := Case{Name: res.Case, Operation: o.id, Status: successes[0], Auth: AuthNone}
	if len(r.security(o)) > 0 {
		c.Auth = AuthValid
		if r.authFailed {
			res.Status = c.Status
			res.Skipped = "authorization failed"
			return res
		}
	}
	res.Status = c.Status
	r.call(ctx, o, c, &res, callOpts{allHeaders: true, anySuccess: true})
	return res
}

// successes lists the 2xx statuses o documents, in order (200 for "2XX").
func (r *run) successes(o *operation) []int {
	if o.op.Responses == nil {
		return nil
	}
	var out []int
	for key := range o.op.Responses.Map() {
		if strings.EqualFold(key, "2XX") {
			out = append(out, http.StatusOK)
			continue
		}
		if n, err := strconv.Atoi(key); err == nil && n >= 200 && n < 300 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// secured reports whether o requires credentials: it (or the document) has
// a security requirement and none of them is empty (optional auth).
func (r *run) secured(o *operation) bool {
	reqs := r.security(o)
	if len(reqs) == 0 {
		return false
	}
	for _, req := range reqs {
		if len(req) == 0 {
			return false
		}
	}
	return true
}

// security is the security requirements of o: its own, else the
// document's.
func (r *run) security(o *operation) openapi3.SecurityRequirements {
	if o.op.Security != nil {
		return *o.op.Security
	}
	return r.doc.Security
}

// decodeJSON decodes a JSON body keeping numbers exact.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decoding JSON: data after the value")
	}
	return v, nil
}

// isJSON reports whether a media type carries JSON.
func isJSON(mediaType string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(mediaType), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
