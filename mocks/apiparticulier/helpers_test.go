package apiparticulier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/apiparticulier"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recipient is a valid SIRET (the platform's documentation uses it).
const recipient = "13002526500013"

// sandboxNow is a day when the sandbox's data was current: quotients
// familiaux computed in December 2024, May 2023 within two years.
var sandboxNow = time.Date(2024, time.December, 16, 10, 0, 0, 0, time.UTC)

// bundle is what setup returns: the mock, its server and its clock.
type bundle struct {
	t     *testing.T
	srv   *apiparticulier.Server
	ts    *httptest.Server
	clock *clock.Fake
}

// setup starts a mock on sandboxNow, with opts' other fields.
func setup(t *testing.T, opts apiparticulier.Options) *bundle {
	t.Helper()
	clk := clock.NewFake(sandboxNow)
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	srv := apiparticulier.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		// Whatever a test did, the mock answered within its contract.
		if n := srv.Stats().ResponseViolations; n != 0 {
			t.Errorf("the mock broke its contract %d times", n)
		}
	})
	return &bundle{t: t, srv: srv, ts: ts, clock: clk}
}

// call is a request to the mock.
type call struct {
	path   string
	query  url.Values
	token  string // "" sends no Authorization
	header http.Header
}

// answer is what the mock answered.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends c and reads the answer.
func (b *bundle) do(c call) answer {
	b.t.Helper()
	u := b.ts.URL + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatalf("building %s: %v", c.path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	rsp, err := b.ts.Client().Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", c.path, err)
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(rsp.Body)
	if err != nil {
		b.t.Fatalf("reading %s: %v", c.path, err)
	}
	return answer{status: rsp.StatusCode, header: rsp.Header, body: body}
}

// decode reads the answer's JSON body into v.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decoding %s: %v", a.body, err)
	}
}

// apiErr is the first element of an error body.
type apiErr struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Source *struct {
		Parameter string `json:"parameter"`
	} `json:"source"`
	Meta map[string]any `json:"meta"`
}

// firstError is the first error of an error body; it fails the test when
// the body is not the platform's error format.
func (a answer) firstError(t *testing.T) apiErr {
	t.Helper()
	var e struct {
		Errors []apiErr `json:"errors"`
	}
	a.decode(t, &e)
	if len(e.Errors) != 1 || e.Errors[0].Code == "" || e.Errors[0].Title == "" || e.Errors[0].Detail == "" || e.Errors[0].Meta == nil {
		t.Fatalf("not the platform's error format: %s", a.body)
	}
	return e.Errors[0]
}

// errorCode is the code of the first error of an error body, "" if the
// body is not one.
func (a answer) errorCode() string {
	var e struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(a.body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

// queryOf turns a case's parameters into a query: prenoms as repeated
// prenoms[], numbers in decimal.
func queryOf(params map[string]any) url.Values {
	q := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		switch v := params[k].(type) {
		case []any:
			for _, e := range v {
				q.Add(k+"[]", fmt.Sprint(e))
			}
		case float64:
			q.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
		case json.Number:
			q.Set(k, v.String())
		default:
			q.Set(k, fmt.Sprint(v))
		}
	}
	return q
}

// identityQuery is the query of an identite call for a person.
func identityQuery(nom string, prenoms []string, annee, mois, jour int, sexe, pays, commune string) url.Values {
	q := url.Values{"recipient": {recipient}, "nomNaissance": {nom}, "prenoms[]": prenoms, "sexeEtatCivil": {sexe}, "codeCogInseePaysNaissance": {pays}}
	for k, v := range map[string]int{"anneeDateNaissance": annee, "moisDateNaissance": mois, "jourDateNaissance": jour} {
		if v != 0 {
			q.Set(k, strconv.Itoa(v))
		}
	}
	if commune != "" {
		q.Set("codeCogInseeCommuneNaissance", commune)
	}
	return q
}

// dupontSophie is the contract's example person (CNAF, four children).
func dupontSophie() url.Values {
	return identityQuery("DUPONT", []string{"SOPHIE"}, 1982, 9, 3, "F", "99100", "13001")
}

// jsonDiff lists the differences between two JSON documents: keys added or
// removed, types changed, values changed (numbers compared as numbers), by
// JSON path. Only shape differences when values is false.
func jsonDiff(want, got []byte, values bool) ([]string, error) {
	var w, g any
	for _, d := range []struct {
		b []byte
		v *any
	}{{want, &w}, {got, &g}} {
		dec := json.NewDecoder(bytes.NewReader(d.b))
		dec.UseNumber()
		if err := dec.Decode(d.v); err != nil {
			return nil, fmt.Errorf("decoding %q: %w", d.b, err)
		}
	}
	var diffs []string
	walkDiff("$", w, g, values, &diffs)
	return diffs, nil
}

func walkDiff(path string, w, g any, values bool, diffs *[]string) {
	if jsonType(w) != jsonType(g) {
		*diffs = append(*diffs, fmt.Sprintf("%s: %s, want %s", path, jsonType(g), jsonType(w)))
		return
	}
	switch wv := w.(type) {
	case map[string]any:
		gv := g.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(wv)) {
			if _, ok := gv[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			walkDiff(path+"."+k, wv[k], gv[k], values, diffs)
		}
		for _, k := range slices.Sorted(maps.Keys(gv)) {
			if _, ok := wv[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: added", path, k))
			}
		}
	case []any:
		gv := g.([]any)
		if len(wv) != len(gv) && values {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d elements, want %d", path, len(gv), len(wv)))
		}
		for i := range min(len(wv), len(gv)) {
			walkDiff(fmt.Sprintf("%s[%d]", path, i), wv[i], gv[i], values, diffs)
		}
	case json.Number:
		wf, _ := wv.Float64()
		gf, _ := g.(json.Number).Float64()
		if values && wf != gf {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s, want %s", path, g, wv))
		}
	default:
		if values && w != g {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v, want %v", path, g, w))
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}

// citizenOf is the FranceConnect identity a case's parameters describe.
func citizenOf(params map[string]any) apiparticulier.Citizen {
	str := func(k string) string { s, _ := params[k].(string); return s }
	num := func(k string) int {
		switch v := params[k].(type) {
		case float64:
			return int(v)
		case json.Number:
			n, _ := v.Int64()
			return int(n)
		}
		return 0
	}
	c := apiparticulier.Citizen{
		FamilyName: str("nomNaissance"), PreferredUsername: str("nomUsage"),
		Birthplace: str("codeCogInseeCommuneNaissance"), Birthcountry: str("codeCogInseePaysNaissance"),
		Gender: map[string]string{"M": "male", "F": "female"}[str("sexeEtatCivil")],
	}
	if ps, ok := params["prenoms"].([]any); ok {
		for _, p := range ps {
			c.GivenNames = append(c.GivenNames, fmt.Sprint(p))
		}
	}
	if y := num("anneeDateNaissance"); y != 0 {
		c.Birthdate = fmt.Sprintf("%04d-%02d-%02d", y, num("moisDateNaissance"), num("jourDateNaissance"))
	}
	return c
}

// citizens is an Options.FranceConnect over a fixed table.
func citizens(table map[string]apiparticulier.Citizen) func(context.Context, string) (apiparticulier.Citizen, bool) {
	return func(_ context.Context, token string) (apiparticulier.Citizen, bool) {
		c, ok := table[token]
		return c, ok
	}
}

// pathOf is the path of an operationId.
func pathOf(op string) string {
	benefit, mode, _ := strings.Cut(op, ".")
	if benefit == "france_travail" {
		return "/v3/france_travail/" + mode + "/identifiant"
	}
	return "/v3/dss/" + benefit + "/" + mode
}
