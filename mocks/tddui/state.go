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
	resources    map[string]*storedResource // business key -> resource
	next         map[string]int             // resource type -> last id given
	submissions  map[string]*submission     // Task id -> submission
	byIdentifier map[string]*submission     // Bundle.identifier -> submission
}

type storedResource struct {
	id, version int
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
	answer     []byte // the transaction-response, for replays
}

func newState() *state {
	return &state{
		resources:    map[string]*storedResource{},
		next:         map[string]int{},
		submissions:  map[string]*submission{},
		byIdentifier: map[string]*submission{},
	}
}

// result is the answer to a submission.
type result struct {
	status   int
	body     []byte
	location string // the Task, on 200
	replayed bool
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
	idKey := ""
	if b.Identifier != nil && b.Identifier.Value != "" {
		idKey = b.Identifier.System + "|" + b.Identifier.Value
		if prev, seen := st.byIdentifier[idKey]; seen {
			if prev.hash != hash {
				return refusal(http.StatusConflict, issue{
					Severity: "error", Code: "duplicate",
					Diagnostics: fmt.Sprintf("A different Bundle with this identifier was already received (Task/%s).", prev.id),
					Expression:  []string{"Bundle.identifier"},
				}), false
			}
			return result{status: http.StatusOK, body: prev.answer, location: taskLocation(prev.id), replayed: true}, false
		}
	}

	a := analyze(&b, func(key string) bool { _, ok := st.resources[key]; return ok })
	if len(a.invalid) > 0 {
		return refusal(http.StatusUnprocessableEntity, a.invalid...), false
	}

	if taskID == "" {
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
			r = &storedResource{id: st.next[typ], version: 1}
			st.resources[key] = r
			e.Status = "201 Created"
		}
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
	}
	for _, typ := range resourceTypes {
		if n := counts[typ]; n > 0 {
			v := taskValue{ValueInteger: n}
			v.Type.Text = typ
			sub.input = append(sub.input, v)
		}
	}
	st.submissions[taskID] = sub
	if idKey != "" {
		st.byIdentifier[idKey] = sub
	}
	return result{status: http.StatusOK, body: sub.answer, location: taskLocation(taskID)}, true
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
