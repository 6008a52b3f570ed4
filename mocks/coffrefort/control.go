package coffrefort

import (
	"encoding/json"
	"io"
	"net/http"
)

// The control API, under /__control/, drives the mock from tests and from
// `relais mocks`: it needs no token, is never subject to faults, and is
// neither counted in Stats nor logged. It is not part of the contract.

// maxControlBody bounds control request bodies.
const maxControlBody = 64 << 10

func writeControl(w http.ResponseWriter, rp reply) {
	w.Header().Set("Content-Type", rp.contentType)
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body) // the client may be gone; nothing to do about it
}

// controlGetFaults serves GET /__control/faults.
func (s *Server) controlGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeControl(w, jsonReply(http.StatusOK, s.Faults()))
}

// controlPutFaults serves PUT /__control/faults: the body (a Faults, strict)
// replaces the active faults and the result is sent back.
func (s *Server) controlPutFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		writeControl(w, problemReply(http.StatusBadRequest, "Reading the body: "+err.Error()))
		return
	}
	if len(body) > maxControlBody {
		writeControl(w, problemReply(http.StatusRequestEntityTooLarge, "The body is too large."))
		return
	}
	var f Faults
	if err := json.Unmarshal(body, &f); err != nil {
		writeControl(w, problemReply(http.StatusBadRequest, err.Error()))
		return
	}
	if err := f.Validate(); err != nil {
		writeControl(w, problemReply(http.StatusBadRequest, err.Error()))
		return
	}
	s.SetFaults(f)
	writeControl(w, jsonReply(http.StatusOK, s.Faults()))
}

// controlDeleteFaults serves DELETE /__control/faults: no more faults.
func (s *Server) controlDeleteFaults(w http.ResponseWriter, _ *http.Request) {
	s.faults.Store(nil)
	w.WriteHeader(http.StatusNoContent)
}

// controlStats serves GET /__control/stats.
func (s *Server) controlStats(w http.ResponseWriter, _ *http.Request) {
	writeControl(w, jsonReply(http.StatusOK, s.Stats()))
}

// controlReset serves POST /__control/reset (see Server.Reset).
func (s *Server) controlReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}
