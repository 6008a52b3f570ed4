package tddui

import "encoding/json"

// The wire types the receiver reads. FHIR resources are open: fields the
// receiver does not check are ignored.

type bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Meta         *struct {
		VersionID string `json:"versionId,omitempty"`
	} `json:"meta,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Entry      []entry     `json:"entry"`
}

type entry struct {
	Resource json.RawMessage `json:"resource"`
	Request  struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
}

type identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
}

type codeableConcept struct {
	Coding []struct {
		System string `json:"system,omitempty"`
		Code   string `json:"code,omitempty"`
	} `json:"coding,omitempty"`
	Text string `json:"text,omitempty"`
}

// code is the concept's first code, else its text.
func (c codeableConcept) code() string {
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.Code
		}
	}
	return c.Text
}

type period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// resource holds every field the receiver checks, whatever the type.
type resource struct {
	ResourceType string `json:"resourceType"`
	Meta         *struct {
		Profile []string `json:"profile,omitempty"`
	} `json:"meta,omitempty"`
	Identifier []identifier `json:"identifier"`

	// Encounter
	Status  string     `json:"status,omitempty"`
	Subject *reference `json:"subject,omitempty"`
	PartOf  *reference `json:"partOf,omitempty"`
	Period  *period    `json:"period,omitempty"`

	// Slot
	ServiceType     []codeableConcept `json:"serviceType,omitempty"`
	AppointmentType *codeableConcept  `json:"appointmentType,omitempty"`
	Schedule        *reference        `json:"schedule,omitempty"`
	Start           string            `json:"start,omitempty"`
	End             string            `json:"end,omitempty"`
}

// Answer types.

type transactionResponse struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Timestamp    string          `json:"timestamp"`
	Entry        []responseEntry `json:"entry"`
}

type responseEntry struct {
	Response struct {
		Status       string `json:"status"`
		Location     string `json:"location"`
		Etag         string `json:"etag"`
		LastModified string `json:"lastModified"`
	} `json:"response"`
}

type operationOutcome struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	Issue        []issue `json:"issue"`
}

type issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

type task struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
	Contained      []operationOutcome `json:"contained"`
	Identifier     []identifier       `json:"identifier,omitempty"`
	Status         string             `json:"status"`
	StatusReason   *codeableText      `json:"statusReason,omitempty"`
	Intent         string             `json:"intent"`
	BusinessStatus struct {
		Text string `json:"text"`
	} `json:"businessStatus"`
	AuthoredOn   string      `json:"authoredOn"`
	LastModified string      `json:"lastModified"`
	Input        []taskValue `json:"input"`
	Output       []taskValue `json:"output"`
}

type codeableText struct {
	Text string `json:"text"`
}

type taskValue struct {
	Type struct {
		Text string `json:"text"`
	} `json:"type"`
	ValueInteger   int        `json:"valueInteger,omitempty"`
	ValueReference *reference `json:"valueReference,omitempty"`
}
