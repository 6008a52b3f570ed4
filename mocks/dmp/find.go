package dmp

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Bundle shapes the server answers with, in the element order FHIR
// servers write.
type (
	bundleMeta struct {
		LastUpdated string `json:"lastUpdated"`
	}
	bundleLink struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	}
	searchEntry struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct {
			Mode string `json:"mode"`
		} `json:"search"`
	}
	searchSet struct {
		ResourceType string        `json:"resourceType"`
		ID           string        `json:"id"`
		Meta         bundleMeta    `json:"meta"`
		Type         string        `json:"type"`
		Total        int           `json:"total"`
		Link         []bundleLink  `json:"link"`
		Entry        []searchEntry `json:"entry"`
	}
)

// allStatuses are the DocumentReference statuses, the default of a search.
var allStatuses = []string{"current", "superseded", "entered-in-error"}

// find is ITI-67 Find Document References: the documents of one patient,
// by status, oldest first.
func (s *Server) find(w http.ResponseWriter, r *http.Request) {
	if ferr := acceptFHIR(r); ferr != nil {
		ferr.write(w)
		return
	}
	q := r.URL.Query()
	system, value, _ := strings.Cut(q.Get("patient.identifier"), "|")
	statuses := allStatuses
	if v := q.Get("status"); v != "" {
		statuses = strings.Split(v, ",")
	}
	key := patientKey(system, value)
	base := s.baseURL(r)
	now := s.opts.Now()

	s.mu.Lock()
	if _, ok := s.st.patients[key]; !ok {
		s.mu.Unlock()
		(&fhirError{status: http.StatusNotFound, code: "not-found", xds: XDSUnknownPatientID, expression: "patient.identifier",
			diagnostics: "No health record is known for this patient identifier."}).write(w)
		return
	}
	rsp := searchSet{
		ResourceType: "Bundle",
		ID:           s.st.nextBundleID(),
		Meta:         bundleMeta{LastUpdated: instant(now)},
		Type:         "searchset",
		Link:         []bundleLink{{Relation: "self", URL: base + "/DocumentReference?" + q.Encode()}},
		Entry:        []searchEntry{},
	}
	for _, id := range s.st.order {
		d := s.st.docs[id]
		if patientKey(d.Patient.System, d.Patient.Value) != key || !slices.Contains(statuses, d.Status) {
			continue
		}
		e := searchEntry{FullURL: base + "/DocumentReference/" + d.ID, Resource: marshalResource(d.render(base))}
		e.Search.Mode = "match"
		rsp.Entry = append(rsp.Entry, e)
	}
	s.mu.Unlock()
	rsp.Total = len(rsp.Entry)
	writeJSON(w, http.StatusOK, rsp)
}

// render is the DocumentReference as read: with its id, meta and status,
// and the absolute URL that retrieves the document.
func (d *storedDoc) render(base string) map[string]any {
	m := maps.Clone(d.resource)
	m["resourceType"] = "DocumentReference"
	m["id"] = d.ID
	meta := map[string]any{"versionId": strconv.Itoa(d.Version), "lastUpdated": instant(d.LastUpdated)}
	if old, ok := d.resource["meta"].(map[string]any); ok {
		if p, ok := old["profile"]; ok {
			meta["profile"] = p
		}
	}
	m["meta"] = meta
	m["status"] = d.Status
	return rewriteAttachment(m, 0, base+"/Binary/"+d.BinaryID)
}
