package dmp

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // the FHIR attachment hash is SHA-1 by definition
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// entryKind is what an entry of a provide bundle holds.
type entryKind int

const (
	kindSubmissionSet entryKind = iota + 1
	kindFolder
	kindDocument
	kindBinary
)

// parsedEntry is one entry of a provide bundle.
type parsedEntry struct {
	kind     entryKind
	fullURL  string
	resource map[string]any
	// doc is the index in parsed.docs of the document (kindDocument) or of
	// the document whose attachment the Binary is (kindBinary).
	doc int
}

// parsedDoc is a DocumentReference of a provide bundle, checked.
type parsedDoc struct {
	fullURL  string
	path     string // FHIRPath of the resource: "Bundle.entry[1].resource"
	resource map[string]any
	patient  Identifier
	master   string
	// contentIndex is the content holding the attachment (always 0: a
	// DocumentReference has one content).
	contentIndex int
	binaryURL    string
	contentType  string
	size         int64
	sha1         string // base64
	replaces     string // id of the DocumentReference replaced, if any
}

// parsed is a provide bundle whose every stateless rule holds.
type parsed struct {
	entries  []parsedEntry
	setPath  string
	patient  string // patientKey of the submission set's subject
	docs     []*parsedDoc
	folders  []int // indexes in entries
	binaries map[string]*binary
}

// provide is ITI-65 Provide Document Bundle.
func (s *Server) provide(w http.ResponseWriter, r *http.Request) {
	if ferr := acceptFHIR(r); ferr != nil {
		ferr.write(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		(&fhirError{status: http.StatusBadRequest, code: "structure", diagnostics: "The request body cannot be read."}).write(w)
		return
	}
	sub, ferr := parseBundle(body)
	var rsp transactionResponse
	s.mu.Lock()
	if ferr == nil {
		var results []entryResult
		var replayed bool
		results, replayed, ferr = s.st.commit(sub, s.opts.Now())
		if ferr == nil {
			s.st.count(replayed)
			rsp = newTransactionResponse(s.st.nextBundleID(), results)
		}
	}
	if ferr != nil {
		s.st.reject(ferr)
	}
	s.mu.Unlock()
	if ferr != nil {
		ferr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, rsp)
}

// transactionResponse is the ITI-65 answer.
type transactionResponse struct {
	ResourceType string             `json:"resourceType"`
	ID           string             `json:"id"`
	Type         string             `json:"type"`
	Entry        []transactionEntry `json:"entry"`
}

type transactionEntry struct {
	Response struct {
		Status       string `json:"status"`
		Location     string `json:"location"`
		Etag         string `json:"etag"`
		LastModified string `json:"lastModified"`
	} `json:"response"`
}

func newTransactionResponse(id string, results []entryResult) transactionResponse {
	rsp := transactionResponse{ResourceType: "Bundle", ID: id, Type: "transaction-response", Entry: make([]transactionEntry, len(results))}
	for i, e := range results {
		r := &rsp.Entry[i].Response
		r.Status = e.status
		r.Location = fmt.Sprintf("%s/%s/_history/%d", e.resourceType, e.id, e.version)
		r.Etag = fmt.Sprintf("W/\"%d\"", e.version)
		r.LastModified = instant(e.modified)
	}
	return rsp
}

// badRequest is a 400 about the bundle's structure.
func badRequest(expression, format string, args ...any) *fhirError {
	return &fhirError{status: http.StatusBadRequest, code: "structure", expression: expression, diagnostics: fmt.Sprintf(format, args...)}
}

// parseBundle decodes a provide bundle and checks every rule that does not
// depend on what is stored.
func parseBundle(body []byte) (*parsed, *fhirError) {
	var b bundle
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, badRequest("", "The body is not a FHIR JSON Bundle: %v.", err)
	}
	if b.ResourceType != "Bundle" || b.Type != "transaction" {
		return nil, badRequest("Bundle.type", "The body is not a transaction Bundle.")
	}
	p := &parsed{binaries: map[string]*binary{}}
	var set *list
	var folders []*list
	var docs []*documentReference
	seen := map[string]bool{}
	for i, e := range b.Entry {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		if seen[e.FullURL] {
			return nil, badRequest(path+".fullUrl", "The fullUrl %q is used by two entries.", e.FullURL)
		}
		seen[e.FullURL] = true
		m, err := decodeObject(e.Resource)
		if err != nil {
			return nil, badRequest(path+".resource", "The resource is not a JSON object.")
		}
		rt, _ := m["resourceType"].(string)
		if e.Request.Method != http.MethodPost || e.Request.URL != rt {
			return nil, badRequest(path+".request", "The entry's request must be POST %s.", rt)
		}
		pe := parsedEntry{fullURL: e.FullURL, resource: m, doc: -1}
		switch rt {
		case "List":
			var l list
			if err := json.Unmarshal(e.Resource, &l); err != nil {
				return nil, badRequest(path+".resource", "The List cannot be decoded: %v.", err)
			}
			switch l.listType() {
			case "submissionset":
				if set != nil {
					return nil, badRequest(path+".resource", "The bundle holds two submission sets.")
				}
				set, p.setPath, pe.kind = &l, path+".resource", kindSubmissionSet
			case "folder":
				folders = append(folders, &l)
				p.folders = append(p.folders, len(p.entries))
				pe.kind = kindFolder
			default:
				return nil, badRequest(path+".resource.code", "The List is neither a submission set nor a folder.")
			}
		case "DocumentReference":
			var d documentReference
			if err := json.Unmarshal(e.Resource, &d); err != nil {
				return nil, badRequest(path+".resource", "The DocumentReference cannot be decoded: %v.", err)
			}
			pe.kind, pe.doc = kindDocument, len(docs)
			docs = append(docs, &d)
			p.docs = append(p.docs, &parsedDoc{fullURL: e.FullURL, path: path + ".resource", resource: m})
		case "Binary":
			var bin binary
			if err := json.Unmarshal(e.Resource, &bin); err != nil {
				return nil, badRequest(path+".resource.data", "The Binary cannot be decoded: %v.", err)
			}
			pe.kind = kindBinary
			p.binaries[e.FullURL] = &bin
		default:
			return nil, badRequest(path+".resource.resourceType", "A provide bundle holds no %s.", rt)
		}
		p.entries = append(p.entries, pe)
	}
	if set == nil || len(docs) == 0 {
		return nil, badRequest("Bundle.entry", "A provide bundle holds one submission set and at least one DocumentReference.")
	}
	if ferr := p.checkPatient(set.Subject, p.setPath+".subject"); ferr != nil {
		return nil, ferr
	}
	p.patient = patientKey(set.Subject.Identifier.System, set.Subject.Identifier.Value)
	if ferr := checkLocal(set.Source, set.Contained, p.setPath+".source"); ferr != nil {
		return nil, ferr
	}
	for i, l := range folders {
		path := fmt.Sprintf("Bundle.entry[%d].resource.subject", p.folders[i])
		if ferr := p.checkPatient(l.Subject, path); ferr != nil {
			return nil, ferr
		}
	}
	if ferr := p.checkDocuments(docs); ferr != nil {
		return nil, ferr
	}
	return p, p.checkSubmissionSet(set)
}

// decodeObject decodes a JSON object keeping numbers as written.
func decodeObject(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding resource: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("decoding resource: null")
	}
	return m, nil
}

// checkPatient checks that ref names the patient by an INS with a valid
// NIR, the same as the submission set's once that is known.
func (p *parsed) checkPatient(ref reference, path string) *fhirError {
	id := ref.Identifier
	switch {
	case id == nil:
		return rejection(XDSUnknownPatientID, "required", path+".identifier", "The patient is not named by an INS identifier.")
	case !isINSSystem(id.System):
		return rejection(XDSUnknownPatientID, "value", path+".identifier.system",
			"The patient identifier system %q is not an INS system (urn:oid:1.2.250.1.213.1.4.8, .9, .10 or .11).", id.System)
	case !validNIR(id.Value):
		return rejection(XDSUnknownPatientID, "value", path+".identifier.value",
			"The patient identifier is not a 15-character NIR with a valid key.")
	case p.patient != "" && patientKey(id.System, id.Value) != p.patient:
		return rejection(XDSPatientIDDoesNotMatch, "business-rule", path+".identifier",
			"The patient differs from the submission set's.")
	}
	return nil
}

// checkLocal checks that a reference to a contained resource ("#id")
// resolves; other references are left alone.
func checkLocal(ref *reference, contained []containedResource, path string) *fhirError {
	if ref == nil || !strings.HasPrefix(ref.Reference, "#") {
		return nil
	}
	for _, c := range contained {
		if "#"+c.ID == ref.Reference {
			return nil
		}
	}
	return rejection(XDSRegistryMetadataError, "invalid", path+".reference",
		"The reference %q names no contained resource.", ref.Reference)
}

// checkDocuments checks every DocumentReference and its Binary.
func (p *parsed) checkDocuments(docs []*documentReference) *fhirError {
	masters := map[string]bool{}
	binaryOf := map[string]int{} // Binary fullUrl -> doc index
	for i, d := range docs {
		pd := p.docs[i]
		if ferr := p.checkPatient(d.Subject, pd.path+".subject"); ferr != nil {
			return ferr
		}
		pd.patient = *d.Subject.Identifier
		for j := range d.Author {
			if !strings.HasPrefix(d.Author[j].Reference, "#") {
				return rejection(XDSRegistryMetadataError, "invalid", fmt.Sprintf("%s.author[%d]", pd.path, j),
					"An author is a contained resource, referenced as \"#id\".")
			}
			if ferr := checkLocal(&d.Author[j], d.Contained, fmt.Sprintf("%s.author[%d]", pd.path, j)); ferr != nil {
				return ferr
			}
		}
		if ferr := checkLocal(d.Custodian, d.Contained, pd.path+".custodian"); ferr != nil {
			return ferr
		}
		pd.master = d.MasterIdentifier.Value
		if masters[pd.master] {
			return rejection(XDSDuplicateUniqueIDInRegistry, "duplicate", pd.path+".masterIdentifier",
				"The masterIdentifier %q is used by two documents of the bundle.", pd.master)
		}
		masters[pd.master] = true
		if len(d.Content) != 1 {
			return rejection(XDSRegistryMetadataError, "invalid", pd.path+".content", "A DocumentReference has exactly one content.")
		}
		if ferr := p.checkAttachment(pd, i, d.Content[0].Attachment, binaryOf); ferr != nil {
			return ferr
		}
		if ferr := pd.checkRelations(d); ferr != nil {
			return ferr
		}
	}
	for i, e := range p.entries {
		if e.kind != kindBinary {
			continue
		}
		doc, ok := binaryOf[e.fullURL]
		if !ok {
			return rejection(XDSRegistryMetadataError, "invalid", fmt.Sprintf("Bundle.entry[%d]", i),
				"The Binary %q is the attachment of no DocumentReference.", e.fullURL)
		}
		p.entries[i].doc = doc
	}
	return nil
}

// checkAttachment checks that the attachment is a Binary of the bundle
// with the announced content type, size and SHA-1.
func (p *parsed) checkAttachment(pd *parsedDoc, index int, a attachment, binaryOf map[string]int) *fhirError {
	path := pd.path + ".content[0].attachment"
	bin, ok := p.binaries[a.URL]
	if !ok {
		return rejection(XDSMissingDocument, "invalid", path+".url",
			"The attachment URL %q points to no Binary of the bundle.", a.URL)
	}
	if other, dup := binaryOf[a.URL]; dup {
		return rejection(XDSRegistryMetadataError, "invalid", path+".url",
			"The Binary %q is already the attachment of %s.", a.URL, p.docs[other].path)
	}
	binaryOf[a.URL] = index
	if bin.ContentType != a.ContentType {
		return rejection(XDSRegistryMetadataError, "value", path+".contentType",
			"The attachment's content type %q differs from its Binary's %q.", a.ContentType, bin.ContentType)
	}
	if int64(len(bin.Data)) != a.Size {
		return rejection(XDSNonIdenticalSize, "value", path+".size",
			"The attachment's size %d differs from its Binary's %d bytes.", a.Size, len(bin.Data))
	}
	sum := sha1.Sum(bin.Data) //nolint:gosec // the FHIR attachment hash is SHA-1 by definition
	got := base64.StdEncoding.EncodeToString(sum[:])
	if got != a.Hash {
		return rejection(XDSNonIdenticalHash, "value", path+".hash",
			"The attachment's hash is not the SHA-1 of its Binary.")
	}
	pd.binaryURL, pd.contentType, pd.size, pd.sha1 = a.URL, a.ContentType, a.Size, got
	return nil
}

// checkRelations reads the document a DocumentReference replaces.
func (pd *parsedDoc) checkRelations(d *documentReference) *fhirError {
	for j, rel := range d.RelatesTo {
		if rel.Code != "replaces" {
			continue
		}
		path := fmt.Sprintf("%s.relatesTo[%d].target.reference", pd.path, j)
		id, ok := documentID(rel.Target.Reference)
		if !ok {
			return rejection(XDSRegistryMetadataError, "invalid", path,
				"The replaced document must be referenced as DocumentReference/<id>.")
		}
		if pd.replaces != "" {
			return rejection(XDSRegistryMetadataError, "invalid", path, "A DocumentReference replaces at most one document.")
		}
		pd.replaces = id
	}
	return nil
}

// documentID reads the id of "DocumentReference/<id>", possibly absolute
// or versioned ("<base>/DocumentReference/<id>/_history/<n>").
func documentID(ref string) (string, bool) {
	_, rest, ok := strings.Cut(ref, "DocumentReference/")
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, validID(id)
}

// validID reports whether id is a FHIR id.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// checkSubmissionSet checks that the submission set lists every document
// of the bundle, and only entries of the bundle.
func (p *parsed) checkSubmissionSet(set *list) *fhirError {
	listed := map[string]bool{}
	kinds := map[string]entryKind{}
	for _, e := range p.entries {
		kinds[e.fullURL] = e.kind
	}
	for j, e := range set.Entry {
		k := kinds[e.Item.Reference]
		if k != kindDocument && k != kindFolder {
			return rejection(XDSRegistryMetadataError, "invalid", fmt.Sprintf("%s.entry[%d].item.reference", p.setPath, j),
				"The submission set lists %q, which is no DocumentReference or folder of the bundle.", e.Item.Reference)
		}
		listed[e.Item.Reference] = true
	}
	for _, d := range p.docs {
		if !listed[d.fullURL] {
			return rejection(XDSRegistryMetadataError, "invalid", p.setPath+".entry",
				"The submission set does not list the DocumentReference %q.", d.fullURL)
		}
	}
	return nil
}
