package francetravail

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/relais-dev/relais/connectors"
)

// Search outcomes (codeRetour).
const (
	codeFound   = "S001" // one person: the answer holds their person token
	codeNobody  = "S002"
	codeSeveral = "S003" // several files match the NIR and birth date
)

// searchPath is rechercher-usager's search by birth date and NIR.
const searchPath = "/rechercher-usager/v2/usagers/par-datenaissance-et-nir"

// searchAnswer is rechercher-usager's answer; pointers tell a missing field
// from an empty one.
type searchAnswer struct {
	Code        *string `json:"codeRetour"`
	PersonToken *string `json:"jetonUsager"`
}

// search finds the person and returns their person token (jetonUsager).
// The NIR travels in the body only, never in the URL. Nobody (S002) and
// several candidates (S003) are not_found: France Travail cannot say whose
// data it would return, and retrying with the same traits will not help;
// the error's Code tells them apart.
func (c *Client) search(ctx context.Context, nir connectors.Secret, birthDate string) (connectors.Secret, error) {
	const op = "searching person"
	body, err := json.Marshal(struct {
		BirthDate string `json:"dateNaissance"`
		NIR       string `json:"nir"`
	}{birthDate, nir.Reveal()})
	if err != nil {
		return "", fmt.Errorf("%s: encoding the search: %w", op, err)
	}
	header := http.Header{}
	header.Set("pa-identifiant-agent", c.cfg.AgentID)
	header.Set("pa-nom-agent", c.cfg.AgentLastName)
	header.Set("pa-prenom-agent", c.cfg.AgentFirstName)
	answer, _, err := c.send(ctx, op, request(http.MethodPost, c.cfg.BaseURL+searchPath, body, header))
	if err != nil {
		return "", err
	}
	return parseSearch(op, answer)
}

// parseSearch reads a search's success answer: the person token of S001,
// or a classified error.
func parseSearch(op string, body []byte) (connectors.Secret, error) {
	var ans searchAnswer
	if err := connectors.DecodeAnswer(op, body, &ans); err != nil {
		return "", err
	}
	if ans.Code == nil {
		return "", contractError(op, `field "codeRetour" is missing`)
	}
	switch *ans.Code {
	case codeFound:
		if ans.PersonToken == nil || *ans.PersonToken == "" {
			return "", contractError(op, `field "jetonUsager" is missing with codeRetour S001`)
		}
		return connectors.Secret(*ans.PersonToken), nil
	case codeNobody:
		return "", &connectors.Error{Class: connectors.NotFound, Op: op + ": nobody has this NIR and birth date (S002)", Code: codeNobody, Outcome: connectors.OutcomeNotFound}
	case codeSeveral:
		return "", &connectors.Error{Class: connectors.NotFound, Op: op + ": several_candidates, no single person has this NIR and birth date (S003)", Code: codeSeveral, Outcome: connectors.OutcomeNotFound}
	default:
		// A code, not personal data: quoting it helps operators.
		return "", contractError(op, fmt.Sprintf("field \"codeRetour\" is %q, not S001, S002 or S003", truncate(*ans.Code, 16)))
	}
}

// contractError is a success answer that breaks the contract.
func contractError(op, what string) *connectors.Error {
	return &connectors.Error{Class: connectors.Permanent, Op: op + ": contract: " + what, Outcome: connectors.OutcomeError}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
