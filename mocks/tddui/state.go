package tddui

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// state is what the receiver holds: the resources by business identifier
// and the submissions.
type state struct {
	resources   map[string]*storedResource // business key -> resource
	next        map[string]int             // resource type -> last id given
	submissions map[string]*submission     // Task id -> submission
	// byIdentifier holds every version stored under a Bundle.identifier,
	// oldest first: the last one is the current one.
	byIdentifier map[string][]*submission
	replacements int64
}

// storedResource is one resource, kept while a current submission holds
// it: a replacement that no longer sends it removes it.
type storedResource struct {
	id, version int
	holders     map[string]bool // Task ids of the submissions that sent it
}

// submission is one Bundle stored, and what its processing will find.
type submission struct {
	id         string
	identifier *identifier
	hash       [sha256.Size]byte
	received   time.Time
	delay      time.Duration
	input      []taskValue
	rejections []issue
	warnings   []issue
	answer     []byte   // the transaction-response, for replays
	keys       []string // the business keys of the resources it sent
	// version is Bundle.meta.versionId (0 when the Bundle has none).
	version int
	// replaces and replacedBy name the Tasks of the previous and next
	// versions of the same Bundle.identifier.
	replaces, replacedBy string
	sandbox              bool // a fixture received at reset
}

func newState() *state {
	return &state{
		resources:    map[string]*storedResource{},
		next:         map[string]int{},
		submissions:  map[string]*submission{},
		byIdentifier: map[string][]*submission{},
	}
}

// result is the answer to a submission.
type result struct {
	status   int
	body     []byte
	location string // the Task, on 200
	replayed bool
	replaced bool // the Bundle replaces a lower version
}

// resourceTypes orders the Task's input.
var resourceTypes = []string{"Patient", "Organization", "Encounter", "Slot"}

// submit checks and stores one Bundle received at now. taskID, when not
// empty, names the Task (the sandbox ones). ok reports that the Bundle was
// stored (not replayed, not refused).
func (st *state) submit(body []byte, now time.Time, taskID string, delay time.Duration) (res result, ok bool) {
	var b bundle
	if err := json.Unmarshal(body, &b); err != nil {
		return refusal(http.StatusBadRequest, issue{Severity: "error", Code: "structure", Diagnostics: "The body is not a FHIR JSON Bundle."}), false
	}
	hash := sha256.Sum256(body)
	version, verr := bundleVersion(&b)
	if verr != nil {
		return refusal(http.StatusUnprocessableEntity, issue{
			Severity: "error", Code: "value",
			Diagnostics: "Bundle.meta.versionId must be a positive integer (the report's version).",
			Expression:  []string{"Bundle.meta.versionId"},
		}), false
	}
	idKey := ""
	var current *submission
	if b.Identifier != nil && b.Identifier.Value != "" {
		idKey = b.Identifier.System + "|" + b.Identifier.Value
		history := st.byIdentifier[idKey]
		for _, prev := range history {
			if prev.hash == hash { // the same version replayed, even after its replacement
				return result{status: http.StatusOK, body: prev.answer, location: taskLocation(prev.id), replayed: true}, false
			}
		}
		if n := len(history); n > 0 {
			current = history[n-1]
			switch {
			case version > current.version:
				// A replacement: stored below.
			case version == current.version:
				return refusal(http.StatusConflict, issue{
					Severity: "error", Code: "duplicate",
					Diagnostics: fmt.Sprintf("A different Bundle with this identifier and version was already received (Task/%s); send a higher Bundle.meta.versionId to replace it.", current.id),
					Expression:  []string{"Bundle.identifier"},
				}), false
			default:
				return refusal(http.StatusConflict, issue{
					Severity: "error", Code: "conflict",
					Diagnostics: fmt.Sprintf("Version %d of this Bundle is older than version %d already received (Task/%s).", version, current.version, current.id),
					Expression:  []string{"Bundle.meta.versionId"},
				}), false
			}
		}
	}

	a := analyze(&b, func(key string) bool { _, ok := st.resources[key]; return ok })
	if len(a.invalid) > 0 {
		return refusal(http.StatusUnprocessableEntity, a.invalid...), false
	}

	sandbox := taskID != ""
	if !sandbox {
		taskID = rand.Text()
	}
	stamp := now.UTC().Format(time.RFC3339)
	rsp := transactionResponse{ResourceType: "Bundle", ID: taskID, Type: "transaction-response", Timestamp: stamp, Entry: make([]responseEntry, len(b.Entry))}
	counts := map[string]int{}
	for i, key := range a.keys {
		typ := a.types[i]
		counts[typ]++
		r, known := st.resources[key]
		e := &rsp.Entry[i].Response
		if known {
			r.version++
			e.Status = "200 OK"
		} else {
			st.next[typ]++
			r = &storedResource{id: st.next[typ], version: 1, holders: map[string]bool{}}
			st.resources[key] = r
			e.Status = "201 Created"
		}
		r.holders[taskID] = true
		e.Location = fmt.Sprintf("%s/%d/_history/%d", typ, r.id, r.version)
		e.Etag = `W/"` + strconv.Itoa(r.version) + `"`
		e.LastModified = stamp
	}
	sub := &submission{
		id:         taskID,
		identifier: b.Identifier,
		hash:       hash,
		received:   now,
		delay:      delay,
		rejections: a.rejections,
		warnings:   a.warnings,
		answer:     mustJSON(rsp),
		keys:       a.keys,
		version:    version,
		sandbox:    sandbox,
	}
	for _, typ := range resourceTypes {
		if n := counts[typ]; n > 0 {
			v := taskValue{ValueInteger: n}
			v.Type.Text = typ
			sub.input = append(sub.input, v)
		}
	}
	st.submissions[taskID] = sub
	if current != nil {
		st.replace(current, sub)
	}
	if idKey != "" {
		st.byIdentifier[idKey] = append(st.byIdentifier[idKey], sub)
	}
	return result{status: http.StatusOK, body: sub.answer, location: taskLocation(taskID), replaced: current != nil}, true
}

// replace marks old as replaced by sub and removes the resources only old
// held: what the corrected version no longer sends. The resources both
// send were updated by sub, not duplicated.
func (st *state) replace(old, sub *submission) {
	old.replacedBy, sub.replaces = sub.id, old.id
	st.replacements++
	for _, key := range old.keys {
		r, ok := st.resources[key]
		if !ok {
			continue
		}
		delete(r.holders, old.id)
		if len(r.holders) == 0 {
			delete(st.resources, key)
		}
	}
}

// bundleVersion reads Bundle.meta.versionId: 0 when absent, else a
// positive integer.
func bundleVersion(b *bundle) (int, error) {
	if b.Meta == nil || b.Meta.VersionID == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(b.Meta.VersionID)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("reading Bundle.meta.versionId %q: not a positive integer", b.Meta.VersionID)
	}
	return v, nil
}

func refusal(status int, issues ...issue) result {
	return result{status: status, body: mustJSON(outcome(issues...))}
}

func taskLocation(id string) string { return "/fhir/Task/" + id }

// task is the submission's Task as of now.
func (sub *submission) task(now time.Time) task {
	t := task{ResourceType: "Task", ID: sub.id, Intent: "order", Input: sub.input}
	t.AuthoredOn = sub.received.UTC().Format(time.RFC3339)
	if sub.identifier != nil {
		t.Identifier = []identifier{*sub.identifier}
	}
	var (
		version  int
		modified time.Time
		issues   []issue
	)
	switch elapsed := now.Sub(sub.received); {
	case elapsed < sub.delay/2:
		version, modified, t.Status, t.BusinessStatus.Text = 1, sub.received, "received", "reçue"
		issues = []issue{{Severity: "information", Code: "informational", Diagnostics: "The submission is received; its processing has not started."}}
	case elapsed < sub.delay:
		version, modified, t.Status, t.BusinessStatus.Text = 2, sub.received.Add(sub.delay/2), "in-progress", "en cours de traitement"
		issues = []issue{{Severity: "information", Code: "informational", Diagnostics: "The submission is being processed."}}
	default:
		version, modified = 3, sub.received.Add(sub.delay)
		issues = append(append([]issue{}, sub.rejections...), sub.warnings...)
		if len(sub.rejections) > 0 {
			t.Status, t.BusinessStatus.Text = "rejected", "rejetée"
		} else {
			t.Status, t.BusinessStatus.Text = "completed", "acceptée"
		}
		if len(issues) == 0 {
			issues = []issue{{Severity: "information", Code: "informational", Diagnostics: "The submission is accepted."}}
		}
	}
	if sub.replaces != "" {
		issues = append(issues, issue{Severity: "information", Code: "informational", Diagnostics: fmt.Sprintf("The submission (version %d) replaces Task/%s.", sub.version, sub.replaces)})
	}
	if sub.replacedBy != "" {
		// Replaced: whatever its processing found, it no longer counts.
		version++
		t.Status, t.BusinessStatus.Text = "cancelled", "remplacée"
		t.StatusReason = &codeableText{Text: "Remplacée par Task/" + sub.replacedBy + "."}
		issues = append(issues, issue{Severity: "information", Code: "informational", Diagnostics: "The submission is replaced by Task/" + sub.replacedBy + "."})
	}
	t.Meta.VersionID = strconv.Itoa(version)
	t.Meta.LastUpdated = modified.UTC().Format(time.RFC3339)
	t.LastModified = t.Meta.LastUpdated
	oo := outcome(issues...)
	oo.ID = "outcome"
	t.Contained = []operationOutcome{oo}
	out := taskValue{ValueReference: &reference{Reference: "#outcome"}}
	out.Type.Text = "outcome"
	t.Output = []taskValue{out}
	return t
}

// readBody reads a request body the runtime has already bounded.
func readBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return buf.Bytes(), nil
}

// transaction serves POST /fhir.
func (s *Server) transaction(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, "structure", "The request body cannot be read.")
		return
	}
	s.mu.Lock()
	res, stored := s.state.submit(body, s.opts.Now(), "", s.opts.ProcessingDelay)
	if stored {
		if k := r.Header.Get("Idempotency-Key"); k != "" {
			s.perKey[k]++
		}
	}
	s.mu.Unlock()
	if stored {
		s.submissions.Add(1)
	}
	if res.replayed {
		s.duplicates.Add(1)
	}
	if res.location != "" {
		w.Header().Set("Location", res.location)
	}
	writeRaw(w, res.status, res.body)
}

// readTask serves GET /fhir/Task/{id}.
func (s *Server) readTask(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	sub, ok := s.state.submissions[id]
	s.mu.Unlock()
	if !ok {
		writeOutcome(w, http.StatusNotFound, "not-found", "Task/"+id+" is not known.")
		return
	}
	writeFHIR(w, http.StatusOK, sub.task(s.opts.Now()))
}
