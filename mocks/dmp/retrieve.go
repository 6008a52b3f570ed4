package dmp

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// binaryResource is a Binary as read with a FHIR Accept header.
type binaryResource struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	ContentType string `json:"contentType"`
	Data        []byte `json:"data"` // base64 in JSON
}

// retrieve is ITI-68 Retrieve Document: the Binary resource for a FHIR
// Accept header, the document's bytes otherwise.
func (s *Server) retrieve(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	b, ok := s.st.binaries[id] // a stored Binary never changes
	s.mu.Unlock()
	if !ok {
		(&fhirError{status: http.StatusNotFound, code: "not-found", diagnostics: "Binary/" + id + " is not known."}).write(w)
		return
	}
	asFHIR, ok := negotiate(r.Header.Get("Accept"), b.contentType)
	if !ok {
		(&fhirError{status: http.StatusNotAcceptable, code: "not-supported",
			diagnostics: "No acceptable representation: the document is " + b.contentType + ", or application/fhir+json as a Binary resource."}).write(w)
		return
	}
	if asFHIR {
		rsp := binaryResource{ResourceType: "Binary", ID: b.id, ContentType: b.contentType, Data: b.data}
		rsp.Meta.VersionID, rsp.Meta.LastUpdated = "1", instant(b.created)
		writeJSON(w, http.StatusOK, rsp)
		return
	}
	w.Header().Set("Content-Type", b.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.data) // the client may be gone
}

// FHIR JSON media types a client may ask for.
var fhirJSONTypes = []string{"application/fhir+json", "application/json"}

// acceptFHIR refuses (406) a request whose Accept header allows no FHIR
// JSON answer.
func acceptFHIR(r *http.Request) *fhirError {
	h := r.Header.Get("Accept")
	if h == "" {
		return nil
	}
	if q, _ := bestQuality(parseAccept(h), fhirJSONTypes...); q > 0 {
		return nil
	}
	return &fhirError{status: http.StatusNotAcceptable, code: "not-supported",
		diagnostics: "No acceptable representation: the server answers application/fhir+json."}
}

// negotiate chooses between the Binary resource (asFHIR) and the raw
// document of type raw for an Accept header: the higher quality wins, then
// the more specific match; the raw document on a tie (so "*/*" gets it).
// ok is false when the header allows neither.
func negotiate(accept, raw string) (asFHIR, ok bool) {
	if accept == "" {
		return false, true
	}
	ranges := parseAccept(accept)
	qRaw, specRaw := bestQuality(ranges, raw)
	qFHIR, specFHIR := bestQuality(ranges, fhirJSONTypes...)
	switch {
	case qRaw <= 0 && qFHIR <= 0:
		return false, false
	case qFHIR > qRaw, qFHIR == qRaw && specFHIR > specRaw:
		return true, true
	}
	return false, true
}

// mediaRange is one element of an Accept header.
type mediaRange struct {
	typ, sub string
	q        float64
}

// parseAccept reads an Accept header; malformed elements are skipped.
func parseAccept(h string) []mediaRange {
	var out []mediaRange
	for part := range strings.SplitSeq(h, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		out = append(out, mediaRange{typ: typ, sub: sub, q: q})
	}
	return out
}

// bestQuality is the quality the ranges give to the best of types, with
// the specificity of the range that decided it (2 exact, 1 "type/*",
// 0 "*/*", -1 no match). For each type the most specific range counts.
func bestQuality(ranges []mediaRange, types ...string) (q float64, spec int) {
	spec = -1
	for _, t := range types {
		typ, sub, _ := strings.Cut(strings.ToLower(t), "/")
		tq, ts := 0.0, -1
		for _, m := range ranges {
			s := -1
			switch {
			case m.typ == typ && m.sub == sub:
				s = 2
			case m.typ == typ && m.sub == "*":
				s = 1
			case m.typ == "*" && m.sub == "*":
				s = 0
			}
			if s > ts {
				tq, ts = m.q, s
			}
		}
		if ts >= 0 && (tq > q || tq == q && ts > spec) {
			q, spec = tq, ts
		}
	}
	return q, spec
}
