package tddui

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Identifier systems and profiles of the TDDUI guide (the profiles'
// canonical base and the structure id system are Relais' assumption).
const (
	SystemSejour          = "https://identifiant-medicosocial-sejour.esante.gouv.fr"
	SystemPresenceAbsence = "https://identifiant-medicosocial-presenceabsence.esante.gouv.fr"
	SystemStructure       = "urn:oid:1.2.250.1.71.4.2.2"
	ProfileBase           = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/"
)

var (
	reLocalID   = regexp.MustCompile(`^3([0-9]{9})/[A-Za-z0-9]+$`)
	reSejour    = regexp.MustCompile(`^(3([0-9]{9})/[A-Za-z0-9]+)-SEJOUR-[A-Za-z0-9]+$`)
	rePA        = regexp.MustCompile(`^(3([0-9]{9})/[A-Za-z0-9]+)-PA-[A-Za-z0-9]+$`)
	reStructure = regexp.MustCompile(`^1([0-9]{9})$`)
)

// kind is what an entry is, by its profile.
type kind int

const (
	kindPatient kind = iota
	kindOrganization
	kindSejour
	kindEvenement
	kindSlot
)

var profiles = map[kind][]string{
	kindPatient:      {"tddui-patient", "tddui-patient-ins"},
	kindOrganization: {"tddui-organization"},
	kindSejour:       {"tddui-encounter-sejour"},
	kindEvenement:    {"tddui-encounter-evenement"},
	kindSlot:         {"tddui-slot-presence-absence"},
}

var evenementStatuses = []string{"planned", "triaged", "finished", "cancelled"}

// analysis is what the receiver found in a Bundle.
type analysis struct {
	// keys are the business keys of the entries, in order: the same key
	// means the same resource, updated.
	keys  []string
	types []string
	// invalid are the findings that refuse the Bundle at once (422);
	// rejections those that reject it during processing; warnings never
	// reject.
	invalid, rejections, warnings []issue
}

// knownFunc reports whether a resource with this business key was received
// before.
type knownFunc func(key string) bool

func keyOf(resourceType, value string) string { return resourceType + "|" + value }

// analyze checks b. known tells which resources were received before.
func analyze(b *bundle, known knownFunc) analysis {
	a := analysis{keys: make([]string, len(b.Entry)), types: make([]string, len(b.Entry))}
	res := make([]resource, len(b.Entry))
	kinds := make([]kind, len(b.Entry))
	inBundle := map[string]bool{}
	finess := map[string]string{} // FINESS -> first expression naming it
	orgFINESS := ""

	for i, e := range b.Entry {
		at := fmt.Sprintf("Bundle.entry[%d]", i)
		r := &res[i]
		if err := json.Unmarshal(e.Resource, r); err != nil {
			a.invalid = append(a.invalid, issue{Severity: "error", Code: "structure", Diagnostics: "The resource cannot be read as FHIR JSON.", Expression: []string{at + ".resource"}})
			continue
		}
		a.types[i] = r.ResourceType
		if e.Request.URL != r.ResourceType {
			a.invalid = append(a.invalid, issue{Severity: "error", Code: "invalid", Diagnostics: fmt.Sprintf("request.url %q does not name the resource type %s.", e.Request.URL, r.ResourceType), Expression: []string{at + ".request.url"}})
		}
		k, ok := a.kindOf(r, at)
		if !ok {
			continue
		}
		kinds[i] = k
		key := a.checkResource(k, r, at, finess, &orgFINESS)
		if key == "" {
			continue
		}
		if inBundle[key] {
			a.invalid = append(a.invalid, issue{Severity: "error", Code: "duplicate", Diagnostics: "The Bundle sends this identifier twice.", Expression: []string{at + ".resource.identifier"}})
		}
		inBundle[key] = true
		a.keys[i] = key
	}
	if len(a.invalid) > 0 {
		return a
	}

	// Processing: the references between entries and to what was received
	// before, and the business rules.
	has := func(key string) bool { return inBundle[key] || known(key) }
	for i := range b.Entry {
		r, at := &res[i], fmt.Sprintf("Bundle.entry[%d].resource", i)
		switch kinds[i] {
		case kindSejour:
			subject := r.Subject.Identifier.Value
			if !has(keyOf("Patient", subject)) {
				a.reject("business-rule", "The stay's person is neither in the Bundle nor received before.", at+".subject")
			}
			if m := reSejour.FindStringSubmatch(r.Identifier[0].Value); m != nil && m[1] != subject {
				a.reject("business-rule", "The stay identifier names another person than its subject.", at+".identifier")
			}
		case kindEvenement:
			if !has(keyOf("Encounter", r.PartOf.Identifier.Value)) {
				a.reject("business-rule", "The event's stay is neither in the Bundle nor received before.", at+".partOf")
			}
		case kindSlot:
			st := r.ServiceType[0].code()
			if st == "absence" && (r.AppointmentType == nil || r.AppointmentType.code() == "") {
				a.reject("business-rule", "An absence requires its reason (appointmentType).", at+".appointmentType")
			}
			if m := rePA.FindStringSubmatch(slotID(r)); m != nil && !has(keyOf("Patient", m[1])) {
				a.reject("business-rule", "The presence or absence names a person neither in the Bundle nor received before.", at+".identifier")
			}
			if r.Status == "" {
				a.warn("required", "The Slot has no status (1..1 in FHIR R4).", at)
			}
			if r.Schedule == nil {
				a.warn("required", "The Slot has no schedule (1..1 in FHIR R4).", at)
			}
		}
	}
	if orgFINESS == "" {
		a.warn("incomplete", "The Bundle has no Organization (tddui-organization) naming the establishment.", "Bundle.entry")
	} else {
		for _, f := range slices.Sorted(maps.Keys(finess)) {
			if f != orgFINESS {
				a.reject("business-rule", fmt.Sprintf("A local identifier names the FINESS %s, not the Organization's.", f), finess[f])
			}
		}
	}
	return a
}

func (a *analysis) fail(code, diagnostics, expression string) {
	a.invalid = append(a.invalid, issue{Severity: "error", Code: code, Diagnostics: diagnostics, Expression: []string{expression}})
}

func (a *analysis) reject(code, diagnostics, expression string) {
	a.rejections = append(a.rejections, issue{Severity: "error", Code: code, Diagnostics: diagnostics, Expression: []string{expression}})
}

func (a *analysis) warn(code, diagnostics, expression string) {
	a.warnings = append(a.warnings, issue{Severity: "warning", Code: code, Diagnostics: diagnostics, Expression: []string{expression}})
}

// kindOf tells the entry's kind from its profile, or from its type (an
// Encounter with partOf is an event).
func (a *analysis) kindOf(r *resource, at string) (kind, bool) {
	var k kind
	switch r.ResourceType {
	case "Patient":
		k = kindPatient
	case "Organization":
		k = kindOrganization
	case "Slot":
		k = kindSlot
	case "Encounter":
		k = kindSejour
		if r.PartOf != nil {
			k = kindEvenement
		}
	default:
		a.fail("not-supported", fmt.Sprintf("The receiver does not take %s entries.", r.ResourceType), at+".resource")
		return 0, false
	}
	if r.Meta == nil || len(r.Meta.Profile) == 0 {
		a.warn("incomplete", fmt.Sprintf("The entry has no meta.profile; %s assumed.", profiles[k][0]), at+".resource.meta")
		return k, true
	}
	for _, p := range r.Meta.Profile {
		name, ok := strings.CutPrefix(p, ProfileBase)
		if !ok {
			continue
		}
		for candidate, names := range profiles {
			if slices.Contains(names, name) && (candidate == k || (r.ResourceType == "Encounter" && (candidate == kindSejour || candidate == kindEvenement))) {
				return candidate, true
			}
		}
	}
	a.fail("value", fmt.Sprintf("meta.profile names no tddui profile of a %s.", r.ResourceType), at+".resource.meta.profile")
	return k, false
}

// checkResource checks the profile rules of one resource and returns its
// business key ("" when it has none to give).
func (a *analysis) checkResource(k kind, r *resource, at string, finess map[string]string, orgFINESS *string) string {
	at += ".resource"
	if len(r.Identifier) == 0 {
		a.fail("required", "The resource has no identifier.", at+".identifier")
		return ""
	}
	if k == kindSlot && len(r.ServiceType) != 1 {
		a.fail("required", "The Slot needs exactly one serviceType (presence or absence).", at+".serviceType")
		return ""
	}
	noteFINESS := func(f, expr string) {
		if _, ok := finess[f]; !ok {
			finess[f] = expr
		}
	}
	switch k {
	case kindPatient:
		for j, id := range r.Identifier {
			if m := reLocalID.FindStringSubmatch(id.Value); m != nil {
				noteFINESS(m[1], fmt.Sprintf("%s.identifier[%d].value", at, j))
				return keyOf("Patient", id.Value)
			}
		}
		a.fail("value", "The Patient has no local identifier matching ^3[0-9]{9}/[A-Za-z0-9]+$.", at+".identifier")
	case kindOrganization:
		for _, id := range r.Identifier {
			if m := reStructure.FindStringSubmatch(id.Value); id.System == SystemStructure && m != nil {
				*orgFINESS = m[1]
				return keyOf("Organization", id.Value)
			}
		}
		a.fail("value", "The Organization has no national structure identifier (system "+SystemStructure+", 1 followed by the FINESS).", at+".identifier")
	case kindSejour:
		ok := true
		id := r.Identifier[0]
		m := reSejour.FindStringSubmatch(id.Value)
		if id.System != SystemSejour || m == nil {
			a.fail("value", "The stay identifier must have the system "+SystemSejour+" and match ^3[0-9]{9}/[A-Za-z0-9]+-SEJOUR-[A-Za-z0-9]+$.", at+".identifier[0]")
			ok = false
		} else {
			noteFINESS(m[2], at+".identifier[0].value")
		}
		if r.Subject == nil || r.Subject.Identifier == nil || r.Subject.Identifier.Value == "" {
			a.fail("required", "The stay has no subject identifying its person.", at+".subject")
			ok = false
		}
		if r.Period == nil || r.Period.Start == "" {
			a.fail("required", "The stay has no period.start (its entry date).", at+".period.start")
			ok = false
		} else if !a.ordered(r.Period.Start, r.Period.End, at+".period") {
			ok = false
		}
		if ok {
			return keyOf("Encounter", id.Value)
		}
	case kindEvenement:
		ok := true
		if !slices.Contains(evenementStatuses, r.Status) {
			a.fail("value", "The event's status must be planned, triaged, finished or cancelled.", at+".status")
			ok = false
		}
		if r.Period == nil || r.Period.Start == "" || r.Period.End == "" {
			a.fail("required", "The event needs period.start and period.end.", at+".period")
			ok = false
		} else if !a.ordered(r.Period.Start, r.Period.End, at+".period") {
			ok = false
		}
		if r.PartOf == nil || r.PartOf.Identifier == nil || r.PartOf.Identifier.Value == "" {
			a.fail("required", "The event is not partOf a stay (by its identifier).", at+".partOf")
			ok = false
		}
		if ok {
			return keyOf("Encounter", r.PartOf.Identifier.Value+"#"+r.Identifier[0].System+"|"+r.Identifier[0].Value)
		}
	case kindSlot:
		ok := true
		m := rePA.FindStringSubmatch(slotID(r))
		if m == nil {
			a.fail("value", "The presence/absence identifier must have the system "+SystemPresenceAbsence+" and match ^3[0-9]{9}/[A-Za-z0-9]+-PA-[A-Za-z0-9]+$.", at+".identifier[0].value")
			ok = false
		} else {
			noteFINESS(m[2], at+".identifier[0].value")
		}
		if st := r.ServiceType[0].code(); st != "presence" && st != "absence" {
			a.fail("value", "The serviceType must be presence or absence.", at+".serviceType[0]")
			ok = false
		}
		if !a.ordered(r.Start, r.End, at) {
			ok = false
		}
		if ok {
			return keyOf("Slot", slotID(r))
		}
	}
	return ""
}

// slotID is the Slot's presence/absence identifier ("" if it has none).
func slotID(r *resource) string {
	for _, id := range r.Identifier {
		if id.System == SystemPresenceAbsence {
			return id.Value
		}
	}
	return ""
}

// ordered checks that end, when given, is not before start.
func (a *analysis) ordered(start, end, at string) bool {
	if end == "" {
		return true
	}
	s, errS := parseFHIRTime(start)
	e, errE := parseFHIRTime(end)
	if errS != nil || errE != nil {
		a.fail("value", "A date or dateTime cannot be read.", at)
		return false
	}
	if e.Before(s) {
		a.fail("invariant", "The period ends before it starts.", at)
		return false
	}
	return true
}

// parseFHIRTime reads a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD,
// or a full time with its offset) as the start of what it names.
func parseFHIRTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly, "2006-01", "2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("reading FHIR time %q: unknown format", v)
}
