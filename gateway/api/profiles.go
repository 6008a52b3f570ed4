package api

import (
	"errors"
	"net/http"

	"github.com/relais-dev/relais/gateway/profile"
)

// CodeProfilesNotConfigured is the problem code of the profile routes on a
// gateway built without lookups.
const CodeProfilesNotConfigured = "profiles_not_configured"

// errProfilesOff is the logged cause of profilesOff.
var errProfilesOff = errors.New("profile lookups are not configured (mandates.person_key is empty, api.Deps.Profiles is nil)")

// profilesOff answers the profile routes of a gateway built without the
// lookup service: 503 profiles_not_configured, naming the setting.
func profilesOff() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeProfilesNotConfigured, Title: "Profile lookups not configured",
		Detail: "This gateway runs without profile lookups: its operator enables them by setting mandates.person_key.", Err: errProfilesOff}
}

// noQuery refuses any query string on the profile routes: the identity
// goes in the body, and nothing else is taken from the URL, so that no
// identity ever lands in an access log.
func noQuery(r *http.Request) error {
	if r.URL.RawQuery == "" && !r.URL.ForceQuery {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: "query_not_allowed", Title: "Query not allowed",
		Detail: "This route takes no query parameters: send the identity in the JSON body, never in the URL."}
}

// profileError turns the service's errors into problems.
func profileError(err error) error {
	var re *profile.RequestError
	switch {
	case errors.As(err, &re):
		problems := make([]FieldProblem, len(re.Problems))
		for i, p := range re.Problems {
			problems[i] = FieldProblem{Field: p.Field, Code: p.Code, Detail: p.Detail}
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: re.Code, Title: "Invalid lookup", Field: re.Field,
			Detail: re.Detail, Errors: problems}
	case errors.Is(err, profile.ErrNotFound):
		return notFound("profile")
	case errors.Is(err, profile.ErrExpired):
		return &Error{Status: http.StatusGone, Code: "profile_expired", Title: "Profile expired",
			Detail: "This lookup's answer has passed its lifetime and was purged; run the lookup again."}
	}
	return err
}

// lookupProfile serves POST /v1/profiles:lookup.
func (s *Server) lookupProfile(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	var req profile.Request
	if err := decodeJSONBody(r, &req); err != nil {
		return err
	}
	p, err := s.deps.Profiles.Lookup(r.Context(), caller(r), req)
	if err != nil {
		return profileError(err)
	}
	w.Header().Set("Location", p.Href)
	writeJSON(w, http.StatusCreated, "application/json", p)
	return nil
}

// getProfile serves GET /v1/profiles/{id}: the stored answer, as it was
// returned by the lookup.
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	body, err := s.deps.Profiles.Get(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return profileError(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
	return nil
}
