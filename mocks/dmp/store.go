package dmp

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Patient is a person who has a health record, with the strict traits of
// a validated INS identity.
type Patient struct {
	// INS is the patient's INS: an INS system and a 15-character NIR.
	INS Identifier `json:"ins"`
	// BirthFamilyName is the birth family name, upper case.
	BirthFamilyName string `json:"birth_family_name"`
	// FirstGivenName is the first given name of the civil registry.
	FirstGivenName string `json:"first_given_name"`
	// GivenNames are all the given names, in order.
	GivenNames []string `json:"given_names"`
	// BirthDate is YYYY-MM-DD.
	BirthDate string `json:"birth_date"`
	// Gender is male, female or unknown.
	Gender string `json:"gender"`
	// BirthPlace is the INSEE COG code of the birth place (a commune, or
	// 99xxx for a country abroad).
	BirthPlace string `json:"birth_place"`
}

// Document is a stored document as tests see it.
type Document struct {
	// ID is the DocumentReference's id; BinaryID the Binary's and
	// SubmissionSetID the id of the submission set that brought it.
	ID, BinaryID, SubmissionSetID string
	// Patient is the patient's INS.
	Patient Identifier
	// MasterIdentifier is the document's unique id given by its creator.
	MasterIdentifier string
	// Status is current, superseded or entered-in-error.
	Status string
	// Version is meta.versionId: 1, plus one per change of status.
	Version int
	// ContentType, Size and SHA1 (base64) describe the document's bytes.
	ContentType string
	Size        int64
	SHA1        string
	// Replaces is the id of the document this one replaced, if any;
	// ReplacedBy the id of the document that replaced this one.
	Replaces, ReplacedBy string
	// Created and LastUpdated are by Options.Now.
	Created, LastUpdated time.Time
}

// storedDoc is a DocumentReference and what the store knows of it.
type storedDoc struct {
	Document
	// resource is the DocumentReference as received, without id, meta and
	// status (added when it is read), with its attachment URL rewritten to
	// "Binary/<id>".
	resource map[string]any
}

// storedBinary is a document's bytes.
type storedBinary struct {
	id          string
	contentType string
	data        []byte
	created     time.Time
}

// storedList is a submission set or a folder.
type storedList struct {
	id       string
	resource map[string]any
	created  time.Time
}

// submission is what one accepted provide bundle created, kept to answer
// its replays.
type submission struct {
	setID     string
	folderIDs []string
	docIDs    []string // in bundle order
	created   time.Time
}

// store is everything Reset forgets; Server.mu guards it.
type store struct {
	seq         map[string]int // last number used in ids, by prefix
	patients    map[string]*Patient
	docs        map[string]*storedDoc
	order       []string          // doc ids, oldest first
	byMaster    map[string]string // masterIdentifier value -> doc id
	binaries    map[string]*storedBinary
	lists       map[string]*storedList
	submissions map[string]*submission // by submission set id

	// Counters of provide requests the handler processed.
	accepted, replayed int64
	rejected           map[string]int64 // by XDS error code, or FHIR issue type
}

func newStore(patients []Patient) *store {
	st := &store{
		patients:    make(map[string]*Patient, len(patients)),
		docs:        map[string]*storedDoc{},
		byMaster:    map[string]string{},
		binaries:    map[string]*storedBinary{},
		lists:       map[string]*storedList{},
		submissions: map[string]*submission{},
		rejected:    map[string]int64{},
		seq:         map[string]int{},
	}
	for i := range patients {
		p := patients[i]
		p.GivenNames = slices.Clone(p.GivenNames)
		st.patients[patientKey(p.INS.System, p.INS.Value)] = &p
	}
	return st
}

// nextID returns a new id with prefix: "dr-000002".
func (st *store) nextID(prefix string) string {
	st.seq[prefix]++
	return fmt.Sprintf("%s-%06d", prefix, st.seq[prefix])
}

// nextBundleID returns a new id for a Bundle the server answers with.
func (st *store) nextBundleID() string {
	return st.nextID("bundle")
}

// count counts an accepted provide request.
func (st *store) count(replayed bool) {
	if replayed {
		st.replayed++
		return
	}
	st.accepted++
}

// reject counts a refused provide request by its XDS error code, or by
// its FHIR issue type when it has none.
func (st *store) reject(e *fhirError) {
	if e.xds != "" {
		st.rejected[e.xds]++
		return
	}
	st.rejected[e.code]++
}

// documents returns copies of the documents of patient (all patients when
// key is ""), oldest first.
func (st *store) documents(key string) []Document {
	var out []Document
	for _, id := range st.order {
		d := st.docs[id]
		if key == "" || patientKey(d.Patient.System, d.Patient.Value) == key {
			out = append(out, d.Document)
		}
	}
	return out
}

// entryResult is one entry of a transaction-response.
type entryResult struct {
	status       string // "201 Created" or "200 OK"
	resourceType string
	id           string
	version      int
	modified     time.Time
}

// commit applies a checked submission: it refuses it (422) when it
// conflicts with what is stored, replays an identical earlier submission,
// or stores it. now stamps what it creates.
func (st *store) commit(sub *parsed, now time.Time) ([]entryResult, bool, *fhirError) {
	if _, ok := st.patients[sub.patient]; !ok {
		return nil, false, rejection(XDSUnknownPatientID, "not-found", sub.setPath+".subject.identifier",
			"No health record is known for the patient identifier of the submission set.")
	}
	replay, ferr := st.duplicates(sub)
	if ferr != nil {
		return nil, false, ferr
	}
	if replay != nil {
		return st.replay(sub, replay), true, nil
	}
	// Replacements, checked before anything is stored.
	targets := map[string]int{} // doc id -> index of the new document
	for i, d := range sub.docs {
		if d.replaces == "" {
			continue
		}
		old, ok := st.docs[d.replaces]
		switch {
		case !ok:
			return nil, false, rejection(XDSRegistryMetadataError, "not-found", d.path+".relatesTo",
				"The replaced document DocumentReference/%s is not known.", d.replaces)
		case patientKey(old.Patient.System, old.Patient.Value) != sub.patient:
			return nil, false, rejection(XDSPatientIDDoesNotMatch, "business-rule", d.path+".relatesTo",
				"The replaced document DocumentReference/%s belongs to another patient.", d.replaces)
		case old.Status != "current":
			return nil, false, rejection(XDSRegistryMetadataError, "business-rule", d.path+".relatesTo",
				"The replaced document DocumentReference/%s is %s, not current.", d.replaces, old.Status)
		}
		if _, dup := targets[d.replaces]; dup {
			return nil, false, rejection(XDSRegistryMetadataError, "business-rule", d.path+".relatesTo",
				"DocumentReference/%s is replaced twice in the bundle.", d.replaces)
		}
		targets[d.replaces] = i
	}
	return st.create(sub, now), false, nil
}

// duplicates checks the masterIdentifiers of sub against the store. It
// returns nil when every masterIdentifier is new, the earlier submission
// when sub repeats it exactly (same documents, same contents), or a
// refusal.
func (st *store) duplicates(sub *parsed) (*submission, *fhirError) {
	earlier := map[*submission]bool{}
	var first *parsedDoc
	firstID, known := "", 0
	for _, d := range sub.docs {
		id, ok := st.byMaster[d.master]
		if !ok {
			continue
		}
		old := st.docs[id]
		if old.SHA1 != d.sha1 || old.Size != d.size || patientKey(old.Patient.System, old.Patient.Value) != sub.patient {
			return nil, rejection(XDSNonIdenticalHash, "duplicate", d.path+".masterIdentifier",
				"The masterIdentifier %q is already used by DocumentReference/%s with another content.", d.master, id)
		}
		known++
		earlier[st.submissions[old.SubmissionSetID]] = true
		if first == nil {
			first, firstID = d, id
		}
	}
	if first == nil {
		return nil, nil
	}
	if known == len(sub.docs) && len(earlier) == 1 {
		for s := range earlier {
			if len(s.docIDs) == len(sub.docs) && len(s.folderIDs) == len(sub.folders) {
				return s, nil
			}
		}
	}
	return nil, rejection(XDSDuplicateUniqueIDInRegistry, "duplicate", first.path+".masterIdentifier",
		"The masterIdentifier %q is already used by DocumentReference/%s, stored by another submission.", first.master, firstID)
}

// replay answers sub with the resources of the earlier submission it
// repeats, entry by entry.
func (st *store) replay(sub *parsed, earlier *submission) []entryResult {
	out := make([]entryResult, len(sub.entries))
	folders := 0
	for i, e := range sub.entries {
		switch e.kind {
		case kindSubmissionSet:
			l := st.lists[earlier.setID]
			out[i] = entryResult{"200 OK", "List", l.id, 1, l.created}
		case kindFolder:
			l := st.lists[earlier.folderIDs[folders]]
			folders++
			out[i] = entryResult{"200 OK", "List", l.id, 1, l.created}
		case kindDocument:
			d := st.docs[st.byMaster[sub.docs[e.doc].master]]
			out[i] = entryResult{"200 OK", "DocumentReference", d.ID, d.Version, d.LastUpdated}
		case kindBinary:
			d := st.docs[st.byMaster[sub.docs[e.doc].master]]
			b := st.binaries[d.BinaryID]
			out[i] = entryResult{"200 OK", "Binary", b.id, 1, b.created}
		}
	}
	return out
}

// create stores sub and returns its transaction-response entries.
func (st *store) create(sub *parsed, now time.Time) []entryResult {
	ids := make(map[string]string, len(sub.entries)) // fullUrl -> "Type/id"
	out := make([]entryResult, len(sub.entries))
	rec := &submission{created: now}
	for i, e := range sub.entries {
		var typ, id string
		switch e.kind {
		case kindSubmissionSet:
			typ, id = "List", st.nextID("ss")
			rec.setID = id
		case kindFolder:
			typ, id = "List", st.nextID("fo")
			rec.folderIDs = append(rec.folderIDs, id)
		case kindDocument:
			typ, id = "DocumentReference", st.nextID("dr")
		case kindBinary:
			typ, id = "Binary", st.nextID("bin")
		}
		ids[e.fullURL] = typ + "/" + id
		out[i] = entryResult{"201 Created", typ, id, 1, now}
	}
	// References between entries become references to the stored ids.
	for _, e := range sub.entries {
		id := ids[e.fullURL][len(typeOf(e.kind))+1:]
		switch e.kind {
		case kindSubmissionSet, kindFolder:
			res := rewriteListEntries(e.resource, ids)
			st.lists[id] = &storedList{id: id, resource: res, created: now}
		case kindBinary:
			b := sub.binaries[e.fullURL]
			st.binaries[id] = &storedBinary{id: id, contentType: b.ContentType, data: b.Data, created: now}
		}
	}
	for _, d := range sub.docs {
		id := ids[d.fullURL][len("DocumentReference/"):]
		binID := ids[d.binaryURL][len("Binary/"):]
		res := rewriteAttachment(d.resource, d.contentIndex, "Binary/"+binID)
		delete(res, "id")
		delete(res, "meta")
		delete(res, "status")
		doc := &storedDoc{
			Document: Document{
				ID: id, BinaryID: binID, SubmissionSetID: rec.setID,
				Patient:          d.patient,
				MasterIdentifier: d.master,
				Status:           "current",
				Version:          1,
				ContentType:      d.contentType,
				Size:             d.size,
				SHA1:             d.sha1,
				Replaces:         d.replaces,
				Created:          now,
				LastUpdated:      now,
			},
			resource: res,
		}
		if m, ok := d.resource["meta"].(map[string]any); ok {
			if p, ok := m["profile"]; ok {
				doc.resource["meta"] = map[string]any{"profile": p}
			}
		}
		st.docs[id] = doc
		st.order = append(st.order, id)
		st.byMaster[d.master] = id
		rec.docIDs = append(rec.docIDs, id)
		if d.replaces != "" {
			old := st.docs[d.replaces]
			old.Status = "superseded"
			old.Version++
			old.LastUpdated = now
			old.ReplacedBy = id
		}
	}
	st.submissions[rec.setID] = rec
	return out
}

func typeOf(k entryKind) string {
	switch k {
	case kindDocument:
		return "DocumentReference"
	case kindBinary:
		return "Binary"
	}
	return "List"
}

// rewriteListEntries returns a copy of a List whose entry items that
// reference bundle entries reference the stored resources instead.
func rewriteListEntries(res map[string]any, ids map[string]string) map[string]any {
	out := maps.Clone(res)
	delete(out, "id")
	entries, _ := res["entry"].([]any)
	if entries == nil {
		return out
	}
	cp := make([]any, len(entries))
	for i, e := range entries {
		em, _ := e.(map[string]any)
		item, _ := em["item"].(map[string]any)
		ref, _ := item["reference"].(string)
		if to, ok := ids[ref]; ok {
			item = maps.Clone(item)
			item["reference"] = to
			em = maps.Clone(em)
			em["item"] = item
		}
		cp[i] = em
	}
	out["entry"] = cp
	return out
}

// rewriteAttachment returns a copy of a DocumentReference whose
// content[index].attachment.url is url.
func rewriteAttachment(res map[string]any, index int, url string) map[string]any {
	out := maps.Clone(res)
	content, _ := res["content"].([]any)
	cp := slices.Clone(content)
	c, _ := cp[index].(map[string]any)
	c = maps.Clone(c)
	a, _ := c["attachment"].(map[string]any)
	a = maps.Clone(a)
	a["url"] = url
	c["attachment"] = a
	cp[index] = c
	out["content"] = cp
	return out
}
