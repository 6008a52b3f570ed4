package tddui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/relais-dev/relais/mapping"
)

// The guide's systems and profiles (the profiles' canonical base and the
// structure id system are Relais' assumption, as in the spec).
const (
	SystemSejour          = mapping.StayIdentifierSystem
	SystemPresenceAbsence = mapping.PresenceAbsenceIdentifierSystem
	SystemStructure       = "urn:oid:1.2.250.1.71.4.2.2"
	ProfileBase           = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/"
)

// The guide's identifier patterns.
var (
	reLocalID   = regexp.MustCompile(`^3([0-9]{9})/[A-Za-z0-9]+$`)
	reSejour    = regexp.MustCompile(`^(3([0-9]{9})/[A-Za-z0-9]+)-SEJOUR-[A-Za-z0-9]+$`)
	rePA        = regexp.MustCompile(`^(3([0-9]{9})/[A-Za-z0-9]+)-PA-[A-Za-z0-9]+$`)
	reStructure = regexp.MustCompile(`^1([0-9]{9})$`)
)

// Violation is a constraint a Bundle breaks.
type Violation struct {
	// Path is a FHIRPath to the element ("Bundle.entry[3].resource.status").
	Path string `json:"path"`
	// Rule is a stable English code: required, pattern, profile, value,
	// reference, absence_reason, finess.
	Rule string `json:"rule"`
	// Message says what is wrong, in English, without the value.
	Message string `json:"message"`
}

func (v Violation) String() string { return v.Path + ": " + v.Rule + ": " + v.Message }

type wIdentifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type wReference struct {
	Identifier *wIdentifier `json:"identifier"`
}

type wConcept struct {
	Coding []struct {
		Code string `json:"code"`
	} `json:"coding"`
	Text string `json:"text"`
}

func (c *wConcept) code() string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.Code
		}
	}
	return c.Text
}

type wMeta struct {
	Profile   []string `json:"profile"`
	VersionID string   `json:"versionId"`
}

type wResource struct {
	ResourceType    string        `json:"resourceType"`
	Meta            *wMeta        `json:"meta"`
	Identifier      []wIdentifier `json:"identifier"`
	Gender          string        `json:"gender"`
	BirthDate       string        `json:"birthDate"`
	Status          string        `json:"status"`
	Subject         *wReference   `json:"subject"`
	ServiceProvider *wReference   `json:"serviceProvider"`
	PartOf          *wReference   `json:"partOf"`
	Period          *struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"period"`
	ServiceType     []wConcept  `json:"serviceType"`
	AppointmentType *wConcept   `json:"appointmentType"`
	Schedule        *wReference `json:"schedule"`
	Start           string      `json:"start"`
	End             string      `json:"end"`
}

type wBundle struct {
	ResourceType string       `json:"resourceType"`
	Type         string       `json:"type"`
	Meta         *wMeta       `json:"meta"`
	Identifier   *wIdentifier `json:"identifier"`
	Entry        []struct {
		Resource wResource `json:"resource"`
		Request  struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
}

var (
	genders           = []string{"male", "female", "other", "unknown"}
	evenementStatuses = []string{"planned", "triaged", "finished", "cancelled"}
	slotStatuses      = []string{"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}
)

// Check returns every constraint of the TDDUI guide that Relais encodes
// and the Bundle breaks; none for a good Bundle:
//
//   - the Bundle: a transaction with the tddui-bundle profile, an
//     identifier (system and value) and a version (meta.versionId); every
//     entry a POST to its resource type, with its tddui profile;
//   - the identifier patterns: an Organization's national structure id
//     (1 + FINESS, urn:oid:1.2.250.1.71.4.2.2), a person's local id
//     ^3[0-9]{9}/[A-Za-z0-9]+$, a stay's ^3[0-9]{9}/[A-Za-z0-9]+-SEJOUR-
//     [A-Za-z0-9]+$ and a presence/absence's ^3[0-9]{9}/[A-Za-z0-9]+-PA-
//     [A-Za-z0-9]+$, each in its system;
//   - required elements: a Patient's gender and birth date; a stay's
//     subject, period.start and serviceProvider; an event's status
//     (planned, triaged, finished, cancelled), period.start and end and
//     partOf; a Slot's one serviceType (presence or absence), status,
//     schedule, start and end;
//   - an absence has a reason (appointmentType);
//   - references are by business identifier: a stay's subject is a
//     person's local id, an event's partOf and a slot's schedule a stay
//     identifier, each matching its pattern; the resource referred to may
//     be in the Bundle or in an earlier chunk of the report (the receiver
//     keeps resources by business identifier and resolves them); a stay's
//     identifier names its subject, and every local id carries the
//     Organization's FINESS.
func Check(body []byte) []Violation {
	var b wBundle
	if err := json.Unmarshal(body, &b); err != nil {
		return []Violation{{Path: "Bundle", Rule: "value", Message: "the Bundle is not FHIR JSON"}}
	}
	c := &checker{}
	if b.ResourceType != "Bundle" || b.Type != "transaction" {
		c.add("Bundle.type", "value", "must be a transaction Bundle")
	}
	c.profile("Bundle", b.Meta, "tddui-bundle")
	if b.Meta == nil || b.Meta.VersionID == "" {
		c.add("Bundle.meta.versionId", "required", "the report's version is missing")
	}
	if b.Identifier == nil || b.Identifier.System == "" || b.Identifier.Value == "" {
		c.add("Bundle.identifier", "required", "the Bundle identifier (system and value) is missing")
	}
	if len(b.Entry) == 0 {
		c.add("Bundle.entry", "required", "the Bundle has no entry")
	}
	orgFINESS := ""
	for i := range b.Entry {
		r := &b.Entry[i].Resource
		if r.ResourceType == "Organization" {
			for _, id := range r.Identifier {
				if m := reStructure.FindStringSubmatch(id.Value); m != nil && id.System == SystemStructure {
					orgFINESS = m[1]
				}
			}
		}
	}
	if orgFINESS == "" {
		c.add("Bundle.entry", "required", "the Bundle has no Organization with the establishment's national structure id")
	}
	finess := func(at, f string) {
		if orgFINESS != "" && f != orgFINESS {
			c.add(at, "finess", "the identifier carries another FINESS than the Organization's")
		}
	}
	for i := range b.Entry {
		e := &b.Entry[i]
		r := &e.Resource
		at := fmt.Sprintf("Bundle.entry[%d]", i)
		if e.Request.Method != "POST" || e.Request.URL != r.ResourceType {
			c.add(at+".request", "value", "must be a POST to the resource's type")
		}
		at += ".resource"
		switch r.ResourceType {
		case "Organization":
			c.profile(at, r.Meta, "tddui-organization")
			if orgFINESS == "" {
				c.add(at+".identifier", "pattern", "must hold 1 + FINESS in "+SystemStructure)
			}
		case "Patient":
			c.profile(at, r.Meta, "tddui-patient", "tddui-patient-ins")
			id := first(r.Identifier)
			if m := reLocalID.FindStringSubmatch(id.Value); m == nil {
				c.add(at+".identifier[0].value", "pattern", "must match "+reLocalID.String())
			} else {
				finess(at+".identifier[0].value", m[1])
			}
			if !slices.Contains(genders, r.Gender) {
				c.add(at+".gender", "required", "must be male, female, other or unknown")
			}
			if r.BirthDate == "" {
				c.add(at+".birthDate", "required", "the birth date is missing")
			}
		case "Encounter":
			if r.PartOf == nil {
				c.sejour(at, r, finess)
			} else {
				c.evenement(at, r, finess)
			}
		case "Slot":
			c.slot(at, r, finess)
		default:
			c.add(at+".resourceType", "value", "the receiver takes Organization, Patient, Encounter and Slot")
		}
	}
	return c.out
}

type checker struct{ out []Violation }

func (c *checker) add(path, rule, msg string) {
	c.out = append(c.out, Violation{Path: path, Rule: rule, Message: msg})
}

func (c *checker) profile(at string, m *wMeta, names ...string) {
	if m != nil {
		for _, p := range m.Profile {
			for _, n := range names {
				if p == ProfileBase+n {
					return
				}
			}
		}
	}
	c.add(at+".meta.profile", "profile", "must name the "+names[0]+" profile")
}

func first(ids []wIdentifier) wIdentifier {
	if len(ids) == 0 {
		return wIdentifier{}
	}
	return ids[0]
}

func refValue(r *wReference) string {
	if r == nil || r.Identifier == nil {
		return ""
	}
	return r.Identifier.Value
}

func (c *checker) sejour(at string, r *wResource, finess func(at, f string)) {
	c.profile(at, r.Meta, "tddui-encounter-sejour")
	id := first(r.Identifier)
	m := reSejour.FindStringSubmatch(id.Value)
	switch {
	case id.System != SystemSejour || m == nil:
		c.add(at+".identifier[0]", "pattern", "must be in "+SystemSejour+" and match "+reSejour.String())
	default:
		finess(at+".identifier[0].value", m[2])
	}
	subject := refValue(r.Subject)
	sm := reLocalID.FindStringSubmatch(subject)
	switch {
	case subject == "":
		c.add(at+".subject", "required", "the stay's person is missing")
	case sm == nil:
		c.add(at+".subject", "pattern", "must name a person's local id matching "+reLocalID.String())
	case m != nil && m[1] != subject:
		c.add(at+".subject", "reference", "the stay identifier names another person")
	default:
		finess(at+".subject", sm[1])
	}
	if r.Period == nil || r.Period.Start == "" {
		c.add(at+".period.start", "required", "the entry date is missing")
	}
	if refValue(r.ServiceProvider) == "" {
		c.add(at+".serviceProvider", "required", "the establishment is missing")
	}
}

// stayRef checks a reference to a stay, in the Bundle or sent before.
func (c *checker) stayRef(at string, ref *wReference, finess func(at, f string)) {
	if ref == nil || ref.Identifier == nil || ref.Identifier.Value == "" {
		c.add(at, "required", "the stay referred to is missing")
		return
	}
	m := reSejour.FindStringSubmatch(ref.Identifier.Value)
	if ref.Identifier.System != SystemSejour || m == nil {
		c.add(at, "pattern", "must name a stay identifier in "+SystemSejour+" matching "+reSejour.String())
		return
	}
	finess(at+".identifier.value", m[2])
}

func (c *checker) evenement(at string, r *wResource, finess func(at, f string)) {
	c.profile(at, r.Meta, "tddui-encounter-evenement")
	if first(r.Identifier).Value == "" {
		c.add(at+".identifier", "required", "the event's identifier is missing")
	}
	if !slices.Contains(evenementStatuses, r.Status) {
		c.add(at+".status", "value", "must be planned, triaged, finished or cancelled")
	}
	if r.Period == nil || r.Period.Start == "" || r.Period.End == "" {
		c.add(at+".period", "required", "the event needs its start and end")
	}
	c.stayRef(at+".partOf", r.PartOf, finess)
}

func (c *checker) slot(at string, r *wResource, finess func(at, f string)) {
	c.profile(at, r.Meta, "tddui-slot-presence-absence")
	id := first(r.Identifier)
	m := rePA.FindStringSubmatch(id.Value)
	switch {
	case id.System != SystemPresenceAbsence || m == nil:
		c.add(at+".identifier[0]", "pattern", "must be in "+SystemPresenceAbsence+" and match "+rePA.String())
	default:
		finess(at+".identifier[0].value", m[2])
	}
	kind := ""
	if len(r.ServiceType) != 1 {
		c.add(at+".serviceType", "required", "must hold exactly one serviceType")
	} else if kind = r.ServiceType[0].code(); kind != "presence" && kind != "absence" {
		c.add(at+".serviceType[0]", "value", "must be presence or absence")
	}
	if kind == "absence" && r.AppointmentType.code() == "" {
		c.add(at+".appointmentType", "absence_reason", "an absence requires its reason")
	}
	if !slices.Contains(slotStatuses, r.Status) {
		c.add(at+".status", "required", "the Slot's status is missing or unknown")
	}
	c.stayRef(at+".schedule", r.Schedule, finess)
	if r.Start == "" || r.End == "" {
		c.add(at, "required", "the Slot needs its start and end")
	}
}
