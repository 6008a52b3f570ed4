package coffrefort

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"time"
)

const contentTypeMergePatch = "application/merge-patch+json"

// flexString is an identifier sent as a JSON string or number (or null);
// it is kept as a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding identifier: %w", err)
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("decoding identifier: want a string or a number, got %s", b)
		}
		*f = flexString(n.String())
	}
	return nil
}

type beneficiaryRequest struct {
	BirthDate      string     `json:"birth_date"`
	FirstName      string     `json:"first_name"`
	LastName       string     `json:"last_name"`
	Email          string     `json:"email"`
	Phone          string     `json:"phone"`
	DistantID      string     `json:"distant_id"`
	Centers        []int      `json:"centers"`
	ExternalCenter flexString `json:"external_center"`
	ExternalProID  flexString `json:"external_pro_id"`
}

type externalLinkRequest struct {
	DistantID      string     `json:"distant_id"`
	ExternalCenter flexString `json:"external_center"`
	ExternalProID  flexString `json:"external_pro_id"`
}

type beneficiaryJSON struct {
	ID            int64              `json:"id"`
	FirstName     string             `json:"first_name"`
	LastName      string             `json:"last_name"`
	BirthDate     string             `json:"birth_date"`
	Email         *string            `json:"email"`
	Phone         *string            `json:"phone"`
	DistantID     *string            `json:"distant_id"`
	Centers       []int              `json:"centers"`
	ExternalLinks []externalLinkJSON `json:"external_links"`
	CreatedAt     time.Time          `json:"created_at"`
}

type externalLinkJSON struct {
	DistantID      string  `json:"distant_id"`
	ExternalCenter *string `json:"external_center"`
	ExternalProID  *string `json:"external_pro_id"`
}

// nullable maps "" to JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (b *Beneficiary) wire() beneficiaryJSON {
	out := beneficiaryJSON{
		ID:            b.ID,
		FirstName:     b.FirstName,
		LastName:      b.LastName,
		BirthDate:     b.BirthDate,
		Email:         nullable(b.Email),
		Phone:         nullable(b.Phone),
		DistantID:     nullable(b.DistantID),
		Centers:       b.Centers,
		ExternalLinks: make([]externalLinkJSON, len(b.ExternalLinks)),
		CreatedAt:     b.CreatedAt,
	}
	if out.Centers == nil {
		out.Centers = []int{}
	}
	for i, l := range b.ExternalLinks {
		out.ExternalLinks[i] = externalLinkJSON{DistantID: l.DistantID, ExternalCenter: nullable(l.ExternalCenter), ExternalProID: nullable(l.ExternalProID)}
	}
	return out
}

func validDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// pathID reads the {id} path parameter; ok is false when it is not a
// positive integer (the caller answers 404).
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// conflictReply is the 409 for a distant_id another beneficiary holds.
func conflictReply(distantID string, existing int64) reply {
	return problemReplyOf(problem{
		Status:     http.StatusConflict,
		Title:      "Conflict",
		Detail:     fmt.Sprintf("The distant_id %q is already linked to beneficiary %d.", distantID, existing),
		ExistingID: existing,
	})
}

// searchBeneficiaries serves GET /api/v3/beneficiaries?distantId=.
func (s *Server) searchBeneficiaries(c *call) reply {
	distantID := c.r.URL.Query().Get("distantId")
	if distantID == "" {
		return problemReply(http.StatusBadRequest, `The query parameter "distantId" is required.`)
	}
	out := []beneficiaryJSON{}
	s.mu.RLock()
	if id, ok := s.state.byDistantID[distantID]; ok {
		out = append(out, s.state.beneficiaries[id].wire())
	}
	s.mu.RUnlock()
	return jsonReply(http.StatusOK, out)
}

// createBeneficiary serves POST /api/v3/beneficiaries.
func (s *Server) createBeneficiary(c *call) reply {
	var req beneficiaryRequest
	if rp, ok := decodeJSON(c, &req); !ok {
		return rp
	}
	var vs []violation
	if req.FirstName == "" {
		vs = append(vs, violation{"first_name", msgNotBlank})
	}
	if req.LastName == "" {
		vs = append(vs, violation{"last_name", msgNotBlank})
	}
	switch {
	case req.BirthDate == "":
		vs = append(vs, violation{"birth_date", msgNotBlank})
	case !validDate(req.BirthDate):
		vs = append(vs, violation{"birth_date", msgInvalidDate})
	}
	if req.Email != "" {
		if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email {
			vs = append(vs, violation{"email", msgEmail})
		}
	}
	if len(vs) > 0 {
		return validationReply(vs)
	}

	b := &Beneficiary{
		FirstName: req.FirstName,
		LastName:  req.LastName,
		BirthDate: req.BirthDate,
		Email:     req.Email,
		Phone:     req.Phone,
		DistantID: req.DistantID,
		Centers:   slices.Clone(req.Centers),
		CreatedAt: c.now.UTC().Truncate(time.Second),
	}
	if b.DistantID != "" {
		b.ExternalLinks = []ExternalLink{{DistantID: b.DistantID, ExternalCenter: string(req.ExternalCenter), ExternalProID: string(req.ExternalProID)}}
	}
	s.mu.Lock()
	st := s.state
	if existing, taken := st.byDistantID[b.DistantID]; taken && b.DistantID != "" {
		s.mu.Unlock()
		return conflictReply(b.DistantID, existing)
	}
	st.lastBeneficiaryID = nextID(st.lastBeneficiaryID, st.beneficiaries)
	b.ID = st.lastBeneficiaryID
	st.beneficiaries[b.ID] = b
	if b.DistantID != "" {
		st.byDistantID[b.DistantID] = b.ID
	}
	w := b.wire()
	s.mu.Unlock()
	return jsonReply(http.StatusCreated, w)
}

// addExternalLink serves PATCH /api/v3/beneficiaries/{id}/add-external-link.
func (s *Server) addExternalLink(c *call) reply {
	id, ok := pathID(c.r)
	if !ok {
		return problemReply(http.StatusNotFound, "Beneficiary not found.")
	}
	var req externalLinkRequest
	if rp, ok := decodeJSON(c, &req, contentTypeJSON, contentTypeMergePatch); !ok {
		return rp
	}
	if req.DistantID == "" {
		return validationReply([]violation{{"distant_id", msgNotBlank}})
	}
	distantID := req.DistantID

	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state
	b, found := st.beneficiaries[id]
	if !found {
		return problemReply(http.StatusNotFound, "Beneficiary not found.")
	}
	if existing, taken := st.byDistantID[distantID]; taken && existing != id {
		return conflictReply(distantID, existing)
	}
	link := ExternalLink{DistantID: distantID, ExternalCenter: string(req.ExternalCenter), ExternalProID: string(req.ExternalProID)}
	if i := slices.IndexFunc(b.ExternalLinks, func(l ExternalLink) bool { return l.DistantID == distantID }); i >= 0 {
		b.ExternalLinks[i] = link
	} else {
		b.ExternalLinks = append(b.ExternalLinks, link)
		st.byDistantID[distantID] = id
	}
	if b.DistantID == "" {
		b.DistantID = distantID
	}
	return jsonReply(http.StatusOK, b.wire())
}
