package coffrefort

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// sandbox is what Options.Sandbox preloads: the beneficiary and the
// document of the contract's examples, each as created by a request that
// carried the Idempotency-Key example. Every operation's documented input
// examples then succeed on the mock (the examples check of `relais
// contracts verify`): the creations replay these, the reads find them.
type sandbox struct {
	key         string
	beneficiary Beneficiary
	document    Document
}

// The names of the contract's examples the sandbox is made of.
const (
	exampleBeneficiary    = "Beneficiary"
	exampleDocument       = "Document"
	exampleIdempotencyKey = "IdempotencyKey"
)

// loadSandbox reads the sandbox from doc's examples.
func loadSandbox(doc *openapi3.T) (*sandbox, error) {
	comp := doc.Components
	if comp == nil {
		return nil, fmt.Errorf("loading the sandbox: the contract has no components")
	}
	key, ok := parameterExample(comp.Parameters[exampleIdempotencyKey])
	if !ok {
		return nil, fmt.Errorf("loading the sandbox: the parameter %s has no string example", exampleIdempotencyKey)
	}
	var b beneficiaryJSON
	if err := decodeExample(comp.Examples[exampleBeneficiary], &b); err != nil {
		return nil, fmt.Errorf("loading the sandbox beneficiary: %w", err)
	}
	var d documentJSON
	if err := decodeExample(comp.Examples[exampleDocument], &d); err != nil {
		return nil, fmt.Errorf("loading the sandbox document: %w", err)
	}
	if d.BeneficiaryID != b.ID {
		return nil, fmt.Errorf("loading the sandbox: the document example belongs to beneficiary %d, the beneficiary example is %d", d.BeneficiaryID, b.ID)
	}
	sb := &sandbox{key: key, beneficiary: Beneficiary{
		ID: b.ID, FirstName: b.FirstName, LastName: b.LastName, BirthDate: b.BirthDate,
		Email: deref(b.Email), Phone: deref(b.Phone), DistantID: deref(b.DistantID),
		Centers: b.Centers, CreatedAt: b.CreatedAt.UTC(),
	}, document: Document{
		ID: d.ID, BeneficiaryID: d.BeneficiaryID, Name: d.Name, Private: d.Private,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), DepositedBy: d.DepositedBy,
		IssueDate: deref(d.IssueDate), DistantID: deref(d.DistantID), Extension: deref(d.Extension),
		MimeType: d.MimeType, Size: d.Size, SHA256: d.Hash, IdempotencyKey: key,
	}}
	if d.FolderID != nil {
		sb.document.FolderID = *d.FolderID
	}
	for _, l := range b.ExternalLinks {
		sb.beneficiary.ExternalLinks = append(sb.beneficiary.ExternalLinks,
			ExternalLink{DistantID: l.DistantID, ExternalCenter: deref(l.ExternalCenter), ExternalProID: deref(l.ExternalProID)})
	}
	return sb, nil
}

// seed puts the sandbox into st, a fresh state.
func (sb *sandbox) seed(st *state) {
	b, d := sb.beneficiary, sb.document
	st.beneficiaries[b.ID] = &b
	for _, l := range b.ExternalLinks {
		st.byDistantID[l.DistantID] = b.ID
	}
	if b.DistantID != "" {
		st.byDistantID[b.DistantID] = b.ID
	}
	st.documents[d.ID] = &d
	st.docsByBeneficiary[b.ID] = []int64{d.ID}
	st.createdPerKey[sb.key] = 1
	created := func(v any) *idempotencyEntry {
		return &idempotencyEntry{turn: make(chan struct{}, 1), done: true, rp: jsonReply(http.StatusCreated, v)}
	}
	st.idempotency[idempotencyKey{op: opBeneficiariesCreate, key: sb.key}] = created(b.wire())
	st.idempotency[idempotencyKey{op: opDocumentsCreate, key: sb.key}] = created(d.wire())
}

func parameterExample(p *openapi3.ParameterRef) (string, bool) {
	if p == nil || p.Value == nil {
		return "", false
	}
	s, ok := p.Value.Example.(string)
	return s, ok && s != ""
}

// decodeExample decodes a named example's value into v, strictly.
func decodeExample(ex *openapi3.ExampleRef, v any) error {
	if ex == nil || ex.Value == nil || ex.Value.Value == nil {
		return fmt.Errorf("the contract has no such example")
	}
	raw, err := json.Marshal(ex.Value.Value)
	if err != nil {
		return fmt.Errorf("encoding the example: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding the example: %w", err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nextID returns the identifier after last that is not taken.
func nextID[T any](last int64, taken map[int64]T) int64 {
	for {
		last++
		if _, ok := taken[last]; !ok {
			return last
		}
	}
}
