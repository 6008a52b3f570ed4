package coffrefort

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/relais-dev/relais/mocks/platform"
)

// The operationIds of the contract (contracts/coffrefort).
const (
	opToken                     = "token"
	opBeneficiariesSearch       = "beneficiaries.search"
	opBeneficiariesCreate       = "beneficiaries.create"
	opBeneficiariesExternalLink = "beneficiaries.external_link"
	opDocumentsCreate           = "documents.create"
	opDocumentsList             = "documents.list"
	opDocumentsGet              = "documents.get"
	opDocumentsToggleVisibility = "documents.toggle_visibility"
)

// operation is what the mock adds to one operation of the contract.
type operation struct {
	handle func(*Server, *call) reply
	// idempotent operations honour the Idempotency-Key header with the
	// mock's own deduplication (idempotency.go).
	idempotent bool
	// notFound is the detail of the 404 for an {id} that is not an
	// identifier; empty when the path has no {id}.
	notFound string
}

// operations is read-only after package initialisation.
var operations = map[string]operation{
	opToken:                     {handle: (*Server).token},
	opBeneficiariesSearch:       {handle: (*Server).searchBeneficiaries},
	opBeneficiariesCreate:       {handle: (*Server).createBeneficiary, idempotent: true},
	opBeneficiariesExternalLink: {handle: (*Server).addExternalLink, notFound: msgBeneficiaryNotFound},
	opDocumentsCreate:           {handle: (*Server).createDocument, idempotent: true},
	opDocumentsList:             {handle: (*Server).listDocuments, notFound: msgBeneficiaryNotFound},
	opDocumentsGet:              {handle: (*Server).getDocument, notFound: msgDocumentNotFound},
	opDocumentsToggleVisibility: {handle: (*Server).toggleVisibility, notFound: msgDocumentNotFound},
}

const (
	msgBeneficiaryNotFound = "Beneficiary not found."
	msgDocumentNotFound    = "Document not found."
)

// call is what a handler knows of its request.
type call struct {
	r        *http.Request
	now      time.Time
	clientID string
	key      string // Idempotency-Key
}

// reply is a response before it is written; it is kept as is for replays.
type reply struct {
	status      int
	contentType string
	body        []byte
	challenge   bool // add WWW-Authenticate: Bearer
	replayed    bool
	// abandoned: the client left before its turn came (idempotency.go);
	// the answer reaches nobody.
	abandoned bool
}

// handler adapts the operation id to the http.Handler the runtime calls
// once the request is routed, authenticated and valid by the contract.
func (s *Server) handler(id string, op operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := call{r: r, now: s.opts.Now(), key: r.Header.Get(headerIdempotencyKey), clientID: clientOf(r)}
		var rp reply
		if op.idempotent && c.key != "" {
			rp = s.once(id, &c, op.handle)
		} else {
			rp = s.count(op.handle(s, &c))
		}
		if tr := traceOf(r); tr != nil {
			tr.handled(rp)
		}
		rp.write(w)
	})
}

// clientOf is the client whose token authenticated r (the runtime's
// principal, see Server.authenticate), "" for an operation without
// authentication.
func clientOf(r *http.Request) string {
	id, _ := platform.Principal(r).(string)
	return id
}

// count counts a handler's refusals of what the contract forbids but its
// schemas cannot say (a file or JSON body over the limit, a repeated
// part, an unknown scope).
func (s *Server) count(rp reply) reply {
	switch rp.status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		s.violations.Add(1)
	}
	return rp
}

// write sends rp. Retry-After and Allow, when due, are the runtime's.
func (rp reply) write(w http.ResponseWriter) {
	h := w.Header()
	if rp.contentType != "" {
		h["Content-Type"] = []string{rp.contentType}
	}
	if rp.challenge {
		h["Www-Authenticate"] = []string{"Bearer"}
	}
	if rp.replayed {
		h[headerReplayed] = []string{"true"}
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body) // the client may be gone; nothing to do about it
}

// contractIndex is what the mock reads of its contract once: the scopes
// each operation needs, its path parameters, and its request body schema.
type contractIndex struct {
	scopes     map[string]scope
	pathParams map[string][]string
	bodies     map[string]*openapi3.Schema
}

// indexContract reads doc. Every operation but the token endpoint names
// the scopes it needs under bearerAuth; a scope the mock does not know is
// an error (the contract and the mock drifted apart).
func indexContract(doc *openapi3.T) (contractIndex, error) {
	ix := contractIndex{scopes: map[string]scope{}, pathParams: map[string][]string{}, bodies: map[string]*openapi3.Schema{}}
	for _, item := range doc.Paths.Map() {
		for _, o := range item.Operations() {
			id := o.OperationID
			reqs := doc.Security
			if o.Security != nil {
				reqs = *o.Security
			}
			for _, req := range reqs {
				if len(req["bearerAuth"]) == 0 {
					continue
				}
				sc, err := parseScope(strings.Join(req["bearerAuth"], " "))
				if err != nil {
					return contractIndex{}, fmt.Errorf("reading the scopes of %s: %w", id, err)
				}
				ix.scopes[id] |= sc
			}
			for _, p := range slices.Concat(item.Parameters, o.Parameters) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
					ix.pathParams[id] = append(ix.pathParams[id], p.Value.Name)
				}
			}
			if o.RequestBody != nil && o.RequestBody.Value != nil {
				for _, mt := range o.RequestBody.Value.Content {
					if mt.Schema != nil && mt.Schema.Value != nil {
						ix.bodies[id] = mt.Schema.Value
						break
					}
				}
			}
		}
	}
	return ix, nil
}

// fieldFormat is the format of the top-level body property name of
// operation id, "" when unknown.
func (ix contractIndex) fieldFormat(id, name string) string {
	body := ix.bodies[id]
	if body == nil {
		return ""
	}
	if p := body.Properties[name]; p != nil && p.Value != nil {
		return p.Value.Format
	}
	return ""
}
