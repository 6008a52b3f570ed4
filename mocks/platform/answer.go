package platform

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// answer is a handler's response held in memory so it can be checked
// against the contract, stored for replays and altered by faults.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

var _ http.ResponseWriter = (*answer)(nil)

func newAnswer() *answer { return &answer{header: http.Header{}, status: http.StatusOK} }

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if a.wrote {
		return
	}
	a.status, a.wrote = status, true
}

func (a *answer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(b) // a bytes.Buffer never fails
}

// WriteJSON writes v as a JSON answer with status. The Content-Type is
// application/json unless the caller set another (application/problem+json,
// application/fhir+json). A value that does not encode is a programming
// error answered with 500, which the contract self-check then counts.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encoding answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone; nothing to do about it
}

func itoa(n int) string { return strconv.Itoa(n) }
