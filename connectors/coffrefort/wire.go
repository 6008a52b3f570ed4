package coffrefort

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// remoteID is an identifier the safe sends as a JSON number or string.
type remoteID string

// UnmarshalJSON accepts a number, a string or null.
func (r *remoteID) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*r = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding identifier: %w", err)
		}
		*r = remoteID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			// Another JSON type is the contract changing, which decode
			// classifies by this error's type.
			return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[remoteID]()}
		}
		*r = remoteID(n.String())
	}
	return nil
}

// beneficiaryRequest is the body of POST /api/v3/beneficiaries.
type beneficiaryRequest struct {
	BirthDate string `json:"birth_date"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	DistantID string `json:"distant_id"`
}

// beneficiary is what the connector reads of a beneficiary.
type beneficiary struct {
	ID            remoteID `json:"id"`
	DistantID     *string  `json:"distant_id"`
	ExternalLinks []struct {
		DistantID string `json:"distant_id"`
	} `json:"external_links"`
}

// holds reports whether b is linked to distantID.
func (b *beneficiary) holds(distantID string) bool {
	if b.DistantID != nil && *b.DistantID == distantID {
		return true
	}
	for _, l := range b.ExternalLinks {
		if l.DistantID == distantID {
			return true
		}
	}
	return false
}

// conflict is what the connector reads of a 409 problem body.
type conflict struct {
	ExistingID remoteID `json:"existing_id"`
}

// document is what the connector reads of a document.
type document struct {
	ID            remoteID  `json:"id"`
	Name          string    `json:"name"`
	Private       bool      `json:"private"`
	CreatedAt     time.Time `json:"created_at"`
	HashAlgorithm string    `json:"hash_algorithm"`
	Hash          string    `json:"hash"`
	Size          int64     `json:"size"`
}

// jsonKind names the JSON type of the value b starts with.
func jsonKind(b []byte) string {
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == 't' || b[0] == 'f':
		return "boolean"
	default:
		return "value"
	}
}
