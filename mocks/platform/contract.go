package platform

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Contract extensions the runtime reads on operations.
const (
	// extIdempotent marks an operation whose requests are deduplicated by
	// the idempotency header (`x-relais-idempotent: true`).
	extIdempotent = "x-relais-idempotent"
	// extRateLimited set to false exempts an operation from Config.RateLimit
	// (`x-relais-rate-limited: false`), e.g. a token endpoint.
	extRateLimited = "x-relais-rate-limited"
)

// operation is one operation of the contract with what the hot path needs.
// It is shared by every Server built from the same contract: the handlers
// are the Server's (Server.handlers, by index).
type operation struct {
	index       int
	id          string
	method      string
	path        string
	secured     bool // has a security requirement: Authenticate runs
	idempotent  bool // x-relais-idempotent: true
	rateLimited bool // subject to Config.RateLimit
}

// contract is a loaded, validated OpenAPI document, its router and its
// compiled body validators. It is read-only once loaded: every Server
// built from the same contract text shares one (see contractCache).
type contract struct {
	doc     *openapi3.T
	router  routers.Router
	ops     []*operation // in a stable order: path, then method
	byID    map[string]*operation
	methods []string // every method used by some operation, for Allow

	// bodies validates JSON, form and multipart bodies with JSON Schema
	// 2020-12 validators compiled once; nil for OpenAPI 3.0 documents,
	// whose bodies kin-openapi validates itself (its 3.0 validator needs no
	// compilation).
	bodies *bodySchemas
	// reqOpts and respOpts are the kin-openapi validation options; they
	// exclude bodies when bodies is set.
	reqOpts, respOpts openapi3filter.Options
}

// contractCache memoizes loaded contracts by the SHA-256 of their text:
// loading one (parsing, validating its examples, compiling its schemas)
// costs tens of milliseconds, and tests build hundreds of mocks from a
// handful of contracts. It is the package's only shared state, a cache of a
// pure function of its key: entries are read-only and never change.
type contractCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*contract
}

// maxCachedContracts bounds the cache; past it an entry is dropped (any:
// a mock process holds a dozen contracts).
const maxCachedContracts = 64

// contracts is the process-wide cache of loaded contracts.
var contracts = &contractCache{entries: map[[sha256.Size]byte]*contract{}}

// load returns the contract of data, loading it on first use. Concurrent
// first uses of one text may both load it; the first stored wins. Errors
// are not cached.
func (cc *contractCache) load(data []byte) (*contract, error) {
	sum := sha256.Sum256(data)
	cc.mu.Lock()
	c := cc.entries[sum]
	cc.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := loadContract(data)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if prev := cc.entries[sum]; prev != nil {
		return prev, nil
	}
	if len(cc.entries) >= maxCachedContracts {
		for k := range cc.entries {
			delete(cc.entries, k)
			break
		}
	}
	cc.entries[sum] = c
	return c, nil
}

// loadContract loads data, validates it, indexes its operations and
// compiles its body schemas.
func loadContract(data []byte) (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading contract: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validating contract: %w", err)
	}
	c := &contract{doc: doc, byID: map[string]*operation{}}
	c.reqOpts, c.respOpts = validationOptions()
	if doc.IsOpenAPI31OrLater() {
		raw, err := rawDocument(data)
		if err != nil {
			return nil, err
		}
		if c.bodies, err = compileBodies(doc, raw); err != nil {
			return nil, err
		}
		c.reqOpts.ExcludeRequestBody = true
		c.respOpts.ExcludeResponseBody = true
	}
	routed, err := routedCopy(doc)
	if err != nil {
		return nil, err
	}
	if c.router, err = gorillamux.NewRouter(routed); err != nil {
		return nil, fmt.Errorf("building router: %w", err)
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, m := range methods {
			o := ops[m]
			if o.OperationID == "" {
				return nil, fmt.Errorf("indexing contract: %s %s has no operationId", m, path)
			}
			if _, dup := c.byID[o.OperationID]; dup {
				return nil, fmt.Errorf("indexing contract: operationId %q is used twice", o.OperationID)
			}
			idem, err := boolExtension(o, extIdempotent, false)
			if err != nil {
				return nil, err
			}
			limited, err := boolExtension(o, extRateLimited, true)
			if err != nil {
				return nil, err
			}
			op := &operation{
				index:       len(c.ops),
				id:          o.OperationID,
				method:      m,
				path:        path,
				secured:     secured(doc, o),
				idempotent:  idem,
				rateLimited: limited,
			}
			c.ops = append(c.ops, op)
			c.byID[op.id] = op
			if !slices.Contains(c.methods, m) {
				c.methods = append(c.methods, m)
			}
		}
	}
	slices.Sort(c.methods)
	return c, nil
}

// boolExtension reads a boolean extension of o, def when absent.
func boolExtension(o *openapi3.Operation, name string, def bool) (bool, error) {
	v, ok := o.Extensions[name]
	if !ok {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("indexing contract: %s of %q is %v, not a boolean", name, o.OperationID, v)
	}
	return b, nil
}

// secured reports whether o requires credentials: it (or the document) has
// security requirements, none of which is the empty "anonymous" one.
func secured(doc *openapi3.T, o *openapi3.Operation) bool {
	reqs := doc.Security
	if o.Security != nil {
		reqs = *o.Security
	}
	if len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		if len(r) == 0 {
			return false
		}
	}
	return true
}

// legacyVersion is the OpenAPI version the router's copy of a 3.1 document
// claims when every parameter and header schema means the same in 3.0 and
// 3.1 (see routedCopy).
const legacyVersion = "3.0.3"

// routedCopy returns the shallow copy of doc the router is built from, and
// whose route kin-openapi validates requests and answers against:
//
//   - servers (document and path level) keep only their base path, so the
//     router matches requests on any host: "https://api.example.fr/fhir"
//     becomes "/fhir";
//   - operations have no security requirement: authentication is
//     Config.Authenticate's business, and kin would otherwise read the body
//     once per security scheme;
//   - a 3.1 document whose parameter and response header schemas use only
//     keywords that mean the same in 3.0 and 3.1 (legacyCompatible) claims
//     to be 3.0.3, so kin validates those small values with its 3.0
//     validator, which needs no compilation, instead of compiling a JSON
//     Schema 2020-12 validator on every call. Bodies are validated by the
//     compiled validators (bodySchemas), never by kin on this copy.
//
// doc itself is not modified; the copies share every other object with it.
func routedCopy(doc *openapi3.T) (*openapi3.T, error) {
	cp := *doc
	servers, err := relativeServers(doc.Servers)
	if err != nil {
		return nil, err
	}
	cp.Servers = servers
	cp.Security = nil
	if doc.IsOpenAPI31OrLater() && legacyCompatible(doc) {
		cp.OpenAPI = legacyVersion
	}
	noSecurity := openapi3.SecurityRequirements{}
	cp.Paths = openapi3.NewPaths()
	for path, item := range doc.Paths.Map() {
		it := *item
		if len(item.Servers) > 0 {
			if it.Servers, err = relativeServers(item.Servers); err != nil {
				return nil, err
			}
		}
		for method, o := range item.Operations() {
			oc := *o
			oc.Security = &noSecurity
			it.SetOperation(method, &oc)
		}
		cp.Paths.Set(path, &it)
	}
	return &cp, nil
}

func relativeServers(in openapi3.Servers) (openapi3.Servers, error) {
	var out openapi3.Servers
	seen := map[string]bool{}
	for _, s := range in {
		base, err := s.BasePath()
		if err != nil {
			return nil, fmt.Errorf("reading base path of server %q: %w", s.URL, err)
		}
		base = "/" + strings.Trim(base, "/")
		if seen[base] {
			continue
		}
		seen[base] = true
		out = append(out, &openapi3.Server{URL: base})
	}
	return out, nil
}

// legacyKeywords are the schema keywords whose meaning is the same in
// OpenAPI 3.0 (kin's 3.0 validator) and OpenAPI 3.1 (JSON Schema 2020-12)
// and that kin's 3.0 validator enforces. "type" must also name one type
// (3.1 allows a list), and "nullable", "exclusiveMinimum" and
// "exclusiveMaximum" (which changed meaning), "const", "prefixItems" and
// every other 2020-12 keyword are absent from the list.
var legacyKeywords = map[string]bool{
	"type": true, "enum": true, "format": true, "pattern": true,
	"minLength": true, "maxLength": true, "minimum": true, "maximum": true, "multipleOf": true,
	"items": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"properties": true, "required": true, "additionalProperties": true,
	"minProperties": true, "maxProperties": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true,
	"title": true, "description": true, "default": true, "example": true, "examples": true,
	"deprecated": true, "$ref": true,
}

// legacyCompatible reports whether every parameter and response header
// schema of doc (references followed) uses only legacyKeywords.
func legacyCompatible(doc *openapi3.T) bool {
	ok := true
	check := func(s *openapi3.SchemaRef) {
		if ok && s != nil {
			ok = legacySchema(s)
		}
	}
	checkParams := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p.Value == nil {
				continue
			}
			if p.Value.Content != nil {
				ok = false // decoded by media type, validated like a body
			}
			check(p.Value.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		checkParams(item.Parameters)
		for _, o := range item.Operations() {
			checkParams(o.Parameters)
			if o.Responses == nil {
				continue
			}
			for _, r := range o.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, h := range r.Value.Headers {
					if h.Value == nil {
						continue
					}
					if h.Value.Content != nil {
						ok = false
					}
					check(h.Value.Schema)
				}
			}
		}
	}
	return ok
}

// legacySchema reports whether s and its sub-schemas use only
// legacyKeywords.
func legacySchema(s *openapi3.SchemaRef) bool {
	err := s.WalkSubtree(func(_ string, ref *openapi3.SchemaRef) error {
		v := ref.Value
		if v == nil {
			return errNotLegacy
		}
		if len(v.Type.Slice()) > 1 || v.Nullable || v.ReadOnly || v.WriteOnly {
			return errNotLegacy
		}
		b, err := json.Marshal(v)
		if err != nil {
			return errNotLegacy
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			return errNotLegacy // a boolean schema
		}
		for k := range fields {
			if !legacyKeywords[k] && !strings.HasPrefix(k, "x-") {
				return errNotLegacy
			}
		}
		return nil
	})
	return err == nil
}

// errNotLegacy stops legacySchema's walk.
var errNotLegacy = fmt.Errorf("schema needs JSON Schema 2020-12")
