package platform

import (
	"io"
	"net/http"
	"strings"
)

// The control API drives a mock from tests and from `relais mocks`:
//
//	GET  /_mock/faults   the active Faults
//	PUT  /_mock/faults   replace them (strict JSON, validated); answers them
//	GET  /_mock/stats    the Stats
//	POST /_mock/reset    Reset; 204
//
// It needs no credentials, is never subject to faults, is not counted in
// Stats and is not part of any contract. Errors are RFC 9457 problems whose
// detail names the faulty field ("rules[1].drift[0].to: ...").
const controlPrefix = "/_mock/"

// maxControlBody bounds control request bodies.
const maxControlBody = 1 << 20

// controlProblem is the RFC 9457 body of a control API error.
type controlProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	var allow string
	switch strings.TrimPrefix(r.URL.Path, controlPrefix) {
	case "faults":
		switch r.Method {
		case http.MethodGet:
			WriteJSON(w, http.StatusOK, s.Faults())
			return
		case http.MethodPut:
			s.controlPutFaults(w, r)
			return
		}
		allow = "GET, PUT"
	case "stats":
		if r.Method == http.MethodGet {
			WriteJSON(w, http.StatusOK, s.Stats())
			return
		}
		allow = "GET"
	case "reset":
		if r.Method == http.MethodPost {
			s.Reset()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		allow = "POST"
	default:
		writeControlProblem(w, http.StatusNotFound, "The control API has /_mock/faults, /_mock/stats and /_mock/reset.")
		return
	}
	w.Header().Set("Allow", allow)
	writeControlProblem(w, http.StatusMethodNotAllowed, "Allowed methods: "+allow+".")
}

// controlPutFaults serves PUT /_mock/faults.
func (s *Server) controlPutFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		writeControlProblem(w, http.StatusBadRequest, "Reading the body: "+err.Error())
		return
	}
	if len(body) > maxControlBody {
		writeControlProblem(w, http.StatusRequestEntityTooLarge, "The body is larger than 1 MiB.")
		return
	}
	f, err := DecodeFaults(body)
	if err != nil {
		writeControlProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeControlProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	WriteJSON(w, http.StatusOK, s.Faults())
}

func writeControlProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	WriteJSON(w, status, controlProblem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}
