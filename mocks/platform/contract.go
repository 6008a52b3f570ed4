package platform

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
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
type operation struct {
	index       int
	id          string
	method      string
	path        string
	handler     http.Handler
	secured     bool // has a security requirement: Authenticate runs
	idempotent  bool // x-relais-idempotent: true
	rateLimited bool // subject to Config.RateLimit
}

// contract is a loaded, validated OpenAPI document and its router.
type contract struct {
	doc     *openapi3.T
	router  routers.Router
	ops     []*operation // in a stable order: path, then method
	byID    map[string]*operation
	methods []string // every method used by some operation, for Allow
}

// loadContract loads data, validates it and indexes its operations.
func loadContract(data []byte) (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading contract: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validating contract: %w", err)
	}
	routed, err := pathOnly(doc)
	if err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(routed)
	if err != nil {
		return nil, fmt.Errorf("building router: %w", err)
	}
	c := &contract{doc: doc, router: router, byID: map[string]*operation{}}
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

// pathOnly returns a shallow copy of doc whose servers (document and path
// level) keep only their base path, so the router matches requests on any
// host: "https://api.example.fr/fhir" becomes "/fhir".
func pathOnly(doc *openapi3.T) (*openapi3.T, error) {
	cp := *doc
	servers, err := relativeServers(doc.Servers)
	if err != nil {
		return nil, err
	}
	cp.Servers = servers
	cp.Paths = openapi3.NewPaths()
	for path, item := range doc.Paths.Map() {
		if len(item.Servers) > 0 {
			it := *item
			if it.Servers, err = relativeServers(item.Servers); err != nil {
				return nil, err
			}
			item = &it
		}
		cp.Paths.Set(path, item)
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
