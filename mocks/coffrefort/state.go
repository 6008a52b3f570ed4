package coffrefort

import (
	"maps"
	"slices"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

// state is everything Reset forgets; Server.mu guards it.
type state struct {
	tokens platform.Tokens[grant] // its own lock, not Server.mu

	lastBeneficiaryID int64
	beneficiaries     map[int64]*Beneficiary
	// byDistantID finds a beneficiary by any of its external links.
	byDistantID map[string]int64

	lastDocumentID    int64
	documents         map[int64]*Document
	docsByBeneficiary map[int64][]int64
	createdPerKey     map[string]int

	idempotency map[idempotencyKey]*idempotencyEntry
}

func newState() *state {
	return &state{
		beneficiaries:     map[int64]*Beneficiary{},
		byDistantID:       map[string]int64{},
		documents:         map[int64]*Document{},
		docsByBeneficiary: map[int64][]int64{},
		createdPerKey:     map[string]int{},
		idempotency:       map[idempotencyKey]*idempotencyEntry{},
	}
}

// Beneficiary is a person holding a safe, as the mock stores it.
type Beneficiary struct {
	ID        int64
	FirstName string
	LastName  string
	BirthDate string // YYYY-MM-DD
	Email     string
	Phone     string
	// DistantID is the distant_id given at creation, empty if none.
	DistantID string
	Centers   []int
	// ExternalLinks are the links to partner systems: the one made at
	// creation (when distant_id was given) and those added with
	// add-external-link.
	ExternalLinks []ExternalLink
	CreatedAt     time.Time
}

// ExternalLink ties a beneficiary to an identifier in a partner system.
type ExternalLink struct {
	DistantID      string
	ExternalCenter string
	ExternalProID  string
}

// Document is a deposited file, as the mock stores it. The file itself is
// not kept: only its size, SHA-256 and first bytes.
type Document struct {
	ID            int64
	BeneficiaryID int64
	Name          string
	Private       bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DepositedBy   string
	IssueDate     string // YYYY-MM-DD, empty if not given
	FolderID      int64  // 0 if not given
	DistantID     string
	Extension     string // lower case, without the dot
	MimeType      string
	Size          int64
	// SHA256 is the hex SHA-256 of the file.
	SHA256 string
	// Head holds the first bytes of the file, at most HeadSize.
	Head []byte
	// IdempotencyKey is the key of the request that created the document.
	IdempotencyKey string
}

// HeadSize bounds Document.Head.
const HeadSize = 4 << 10

// Documents returns a copy of every document, ordered by ID.
func (s *Server) Documents() []Document {
	s.mu.RLock()
	out := make([]Document, 0, len(s.state.documents))
	for _, d := range s.state.documents {
		out = append(out, *d)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Document) int { return int(a.ID - b.ID) })
	return out
}

// Beneficiaries returns a copy of every beneficiary, ordered by ID.
func (s *Server) Beneficiaries() []Beneficiary {
	s.mu.RLock()
	out := make([]Beneficiary, 0, len(s.state.beneficiaries))
	for _, b := range s.state.beneficiaries {
		c := *b
		c.Centers = slices.Clone(b.Centers)
		c.ExternalLinks = slices.Clone(b.ExternalLinks)
		out = append(out, c)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Beneficiary) int { return int(a.ID - b.ID) })
	return out
}

// CreatedPerKey returns, for each Idempotency-Key seen on a document upload
// that created a document, how many documents it created. Deduplication
// works when every value is 1.
func (s *Server) CreatedPerKey() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.state.createdPerKey)
}
