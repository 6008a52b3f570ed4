package mapping

import (
	"regexp"
	"time"
	"unicode/utf8"
)

// Category is an establishment's FINESS category ("catégorie
// d'établissement"): a 3-digit code and its label.
type Category struct {
	Code  string `json:"code"`
	Label string `json:"label,omitempty"`
}

// Establishment is a social or medico-social establishment (ESMS).
type Establishment struct {
	// FINESS is the establishment's FINESS number.
	FINESS string `json:"finess"`
	// SIRET is the establishment's SIRET, when it has one.
	SIRET    string    `json:"siret,omitempty"`
	Name     string    `json:"name"`
	Category *Category `json:"category,omitempty"`
}

var finessCategoryPattern = regexp.MustCompile(`^[0-9]{3}$`)

// Validate checks the establishment, FINESS and SIRET keys included.
func (e *Establishment) Validate() []*FieldError {
	c := newChecker("")
	c.finess("finess", e.FINESS)
	c.siret("siret", e.SIRET, false)
	c.text("name", "Le nom de l'établissement", e.Name, true, 200)
	if e.Category != nil {
		cc := c.at("category")
		switch {
		case e.Category.Code == "":
			cc.missing("code", "Le code de catégorie")
		case !finessCategoryPattern.MatchString(e.Category.Code):
			cc.add("code", "invalid_format", "must be 3 digits", "Le code de catégorie FINESS doit compter 3 chiffres.")
		}
		cc.text("label", "Le libellé de la catégorie", e.Category.Label, false, 200)
	}
	return c.result()
}

func (c *checker) finess(field, v string) {
	switch {
	case v == "":
		c.missing(field, "Le numéro FINESS")
	case len(v) != 9 || !allDigits(v):
		c.add(field, "invalid_format", "must be 9 digits", "Le numéro FINESS doit compter 9 chiffres.")
	case !ValidFINESS(v):
		c.add(field, "invalid_key", "has a wrong check digit", "La clé du numéro FINESS ne correspond pas au numéro.")
	}
}

func (c *checker) siret(field, v string, required bool) {
	switch {
	case v == "" && !required:
	case v == "":
		c.missing(field, "Le numéro SIRET")
	case len(v) != 14 || !allDigits(v):
		c.add(field, "invalid_format", "must be 14 digits", "Le numéro SIRET doit compter 14 chiffres.")
	case !ValidSIRET(v):
		c.add(field, "invalid_key", "has a wrong check digit", "La clé du numéro SIRET ne correspond pas au numéro.")
	}
}

// Coding is a code from a code system (a SERAFIN-PH or ROR value set), or
// free text: System and Code go together, Display labels the code or, alone,
// is the free text.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

func (cd *Coding) validate(c *checker, label string) {
	switch {
	case cd.System == "" && cd.Code == "" && cd.Display == "":
		c.add("", "required", "must have a code and its system, or a display text",
			label+" doit comporter un code et son système, ou un texte.")
		return
	case cd.System != "" && cd.Code == "":
		c.add("code", "required", "is required with system", "Le code est obligatoire avec son système.")
	case cd.Code != "" && cd.System == "":
		c.add("system", "required", "is required with code", "Le système est obligatoire avec le code.")
	}
	if cd.System != "" && (utf8.RuneCountInString(cd.System) > 256 || !uriPattern.MatchString(cd.System)) {
		c.add("system", "invalid_format", "must be an absolute URI of at most 256 characters",
			"Le système du code doit être une URI absolue d'au plus 256 caractères.")
	}
	if cd.Code != "" && !codePattern.MatchString(cd.Code) {
		c.add("code", "invalid_format", "must be 1 to 64 characters without spaces",
			"Le code doit compter 1 à 64 caractères, sans espace.")
	}
	c.text("display", "Le libellé", cd.Display, false, 200)
}

// Stay is a stay ("séjour") of a person in an establishment, as the TDDUI
// guide describes it.
type Stay struct {
	// Identifier is "3<FINESS>/<local id>-SEJOUR-<file number>", in the
	// StayIdentifierSystem; see StayIdentifier.
	Identifier string `json:"identifier"`
	// PersonLocalID is "3<FINESS>/<local id>", the start of Identifier.
	PersonLocalID string `json:"person_local_id"`
	// Start and End are the dates of entry and exit.
	Start         Date   `json:"start"`
	End           Date   `json:"end,omitempty"`
	AdmissionDate Date   `json:"admission_date,omitempty"`
	EntryMode     string `json:"entry_mode,omitempty"`
	ExitMode      string `json:"exit_mode,omitempty"`
	// ServiceType is the ROR "modalité d'accueil".
	ServiceType *Coding `json:"service_type,omitempty"`
}

// Validate checks the stay. Beyond the schema, it checks that Identifier
// starts with PersonLocalID and that End is not before Start.
func (s *Stay) Validate() []*FieldError {
	c := newChecker("")
	s.validate(c)
	return c.result()
}

func (s *Stay) validate(c *checker) {
	c.stayIdentifier("identifier", "L'identifiant du séjour", s.Identifier)
	switch {
	case s.PersonLocalID == "":
		c.missing("person_local_id", "L'identifiant local de la personne")
	case !ValidPersonLocalID(s.PersonLocalID):
		c.add("person_local_id", "invalid_format", "must be 3, a 9-digit FINESS, a slash and letters or digits",
			"L'identifiant local de la personne doit avoir la forme 3<FINESS>/<identifiant>.")
	case ValidStayIdentifier(s.Identifier) && personOf(s.Identifier) != s.PersonLocalID:
		c.add("identifier", "person_mismatch", "must start with person_local_id",
			"L'identifiant du séjour doit commencer par l'identifiant local de la personne.")
	}
	c.date("start", "La date d'entrée", s.Start, true)
	c.date("end", "La date de sortie", s.End, false)
	if s.End.before(s.Start) {
		c.add("end", "before_start", "must not be before start", "La date de sortie ne peut pas précéder la date d'entrée.")
	}
	c.date("admission_date", "La date d'admission", s.AdmissionDate, false)
	c.text("entry_mode", "Le mode d'entrée", s.EntryMode, false, 200)
	c.text("exit_mode", "Le mode de sortie", s.ExitMode, false, 200)
	if s.ServiceType != nil {
		s.ServiceType.validate(c.at("service_type"), "La modalité d'accueil")
	}
}

func (c *checker) stayIdentifier(field, label, v string) {
	switch {
	case v == "":
		c.missing(field, label)
	case !ValidStayIdentifier(v):
		c.add(field, "invalid_format", "must be 3<FINESS>/<local id>-SEJOUR-<file number>",
			label+" doit avoir la forme 3<FINESS>/<identifiant>-SEJOUR-<numéro de dossier>.")
	}
}

// EventStatus is the state of an event.
type EventStatus string

// Event statuses (FHIR Encounter statuses the TDDUI guide keeps).
const (
	EventPlanned   EventStatus = "planned"
	EventTriaged   EventStatus = "triaged"
	EventFinished  EventStatus = "finished"
	EventCancelled EventStatus = "cancelled"
)

// Event is an event ("évènement") of a stay: a care or support act.
type Event struct {
	Identifier     string      `json:"identifier"`
	StayIdentifier string      `json:"stay_identifier"`
	Status         EventStatus `json:"status"`
	Start          time.Time   `json:"start"`
	End            time.Time   `json:"end"`
	// Type is a SERAFIN-PH or SSIAD code, or free text.
	Type *Coding `json:"type,omitempty"`
}

// Validate checks the event. Beyond the schema, it checks that End is not
// before Start.
func (e *Event) Validate() []*FieldError {
	c := newChecker("")
	e.validate(c)
	return c.result()
}

func (e *Event) validate(c *checker) {
	c.localID("identifier", "L'identifiant de l'évènement", e.Identifier)
	c.stayIdentifier("stay_identifier", "L'identifiant du séjour", e.StayIdentifier)
	enum(c, "status", "Le statut de l'évènement", e.Status, EventPlanned, EventTriaged, EventFinished, EventCancelled)
	c.instant("start", "Le début de l'évènement", e.Start)
	c.instant("end", "La fin de l'évènement", e.End)
	c.notBefore("end", "La fin de l'évènement", e.Start, e.End)
	if e.Type != nil {
		e.Type.validate(c.at("type"), "Le type d'évènement")
	}
}

// PresenceKind says whether a slot is a presence or an absence.
type PresenceKind string

// Presence kinds.
const (
	Presence PresenceKind = "presence"
	Absence  PresenceKind = "absence"
)

// PresenceAbsence is a presence or an absence of a person during a stay.
type PresenceAbsence struct {
	// Identifier is "3<FINESS>/<local id>-PA-<n>", in the
	// PresenceAbsenceIdentifierSystem; see PresenceAbsenceIdentifier.
	Identifier     string       `json:"identifier"`
	StayIdentifier string       `json:"stay_identifier"`
	Kind           PresenceKind `json:"kind"`
	// Reason is the reason of an absence, required for one.
	Reason   *Coding   `json:"reason,omitempty"`
	Planned  bool      `json:"planned,omitempty"`
	Invoiced bool      `json:"invoiced,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Validate checks the presence or absence. Beyond the schema, it checks that
// Identifier and StayIdentifier are about the same person and that End is
// not before Start.
func (pa *PresenceAbsence) Validate() []*FieldError {
	c := newChecker("")
	pa.validate(c)
	return c.result()
}

func (pa *PresenceAbsence) validate(c *checker) {
	switch {
	case pa.Identifier == "":
		c.missing("identifier", "L'identifiant de la présence ou de l'absence")
	case !ValidPresenceAbsenceIdentifier(pa.Identifier):
		c.add("identifier", "invalid_format", "must be 3<FINESS>/<local id>-PA-<number>",
			"L'identifiant de la présence ou de l'absence doit avoir la forme 3<FINESS>/<identifiant>-PA-<numéro>.")
	case ValidStayIdentifier(pa.StayIdentifier) && personOf(pa.Identifier) != personOf(pa.StayIdentifier):
		c.add("identifier", "person_mismatch", "must be about the person of the stay",
			"L'identifiant de la présence ou de l'absence doit désigner la personne du séjour.")
	}
	c.stayIdentifier("stay_identifier", "L'identifiant du séjour", pa.StayIdentifier)
	enum(c, "kind", "La nature (présence ou absence)", pa.Kind, Presence, Absence)
	switch {
	case pa.Reason != nil:
		pa.Reason.validate(c.at("reason"), "Le motif d'absence")
	case pa.Kind == Absence:
		c.add("reason", "required", "is required for an absence", "Le motif est obligatoire pour une absence.")
	}
	c.instant("start", "Le début", pa.Start)
	c.instant("end", "La fin", pa.End)
	c.notBefore("end", "La fin", pa.Start, pa.End)
}

// Period is a span of calendar days, both ends included.
type Period struct {
	Start Date `json:"start"`
	End   Date `json:"end"`
}

// ReportPerson is a person in an activity report, with the local
// identifier the report's stays refer to.
type ReportPerson struct {
	// LocalID is "3<FINESS>/<local id>".
	LocalID string `json:"local_id"`
	Person  Person `json:"person"`
}

// ActivityReport is an establishment's activity over a period, as the TDDUI
// guide sends it to an authority: the persons, their stays, the stays'
// events and presences or absences.
type ActivityReport struct {
	// FINESS is the reporting establishment's FINESS number.
	FINESS           string            `json:"finess"`
	Period           Period            `json:"period"`
	Persons          []ReportPerson    `json:"persons,omitempty"`
	Stays            []Stay            `json:"stays,omitempty"`
	Events           []Event           `json:"events,omitempty"`
	PresenceAbsences []PresenceAbsence `json:"presence_absences,omitempty"`
}

// Validate checks the report and everything in it. Beyond the schema, it
// checks that the period's end is not before its start, that every local
// identifier is of the report's FINESS and appears once, and that stays
// refer to listed persons and events and presences to listed stays.
func (r *ActivityReport) Validate() []*FieldError {
	c := newChecker("")
	c.finess("finess", r.FINESS)
	if r.Period == (Period{}) {
		c.missing("period", "La période du rapport")
	} else {
		pc := c.at("period")
		pc.date("start", "Le début de la période", r.Period.Start, true)
		pc.date("end", "La fin de la période", r.Period.End, true)
		if r.Period.End.before(r.Period.Start) {
			pc.add("end", "before_start", "must not be before start", "La fin de la période ne peut pas précéder son début.")
		}
	}
	ours := func(c *checker, field, id string) {
		if len(id) > 10 && ValidFINESS(r.FINESS) && finessOf(id) != r.FINESS {
			c.add(field, "finess_mismatch", "must be of the report's FINESS",
				"L'identifiant doit porter le numéro FINESS du rapport.")
		}
	}
	persons := make(map[string]bool, len(r.Persons))
	for i := range r.Persons {
		p, pc := &r.Persons[i], c.item("persons", i)
		switch {
		case p.LocalID == "":
			pc.missing("local_id", "L'identifiant local de la personne")
		case !ValidPersonLocalID(p.LocalID):
			pc.add("local_id", "invalid_format", "must be 3, a 9-digit FINESS, a slash and letters or digits",
				"L'identifiant local de la personne doit avoir la forme 3<FINESS>/<identifiant>.")
		case persons[p.LocalID]:
			pc.add("local_id", "duplicate", "must not repeat an earlier person", "Cette personne figure deux fois dans le rapport.")
		default:
			ours(pc, "local_id", p.LocalID)
		}
		persons[p.LocalID] = true
		if p.Person.isZero() {
			pc.missing("person", "L'identité de la personne")
		} else {
			p.Person.validate(pc.at("person"))
		}
	}
	stays := make(map[string]bool, len(r.Stays))
	for i := range r.Stays {
		s, sc := &r.Stays[i], c.item("stays", i)
		s.validate(sc)
		switch {
		case !ValidStayIdentifier(s.Identifier):
		case stays[s.Identifier]:
			sc.add("identifier", "duplicate", "must not repeat an earlier stay", "Ce séjour figure deux fois dans le rapport.")
		default:
			ours(sc, "identifier", s.Identifier)
		}
		stays[s.Identifier] = true
		if ValidPersonLocalID(s.PersonLocalID) && !persons[s.PersonLocalID] {
			sc.add("person_local_id", "unknown_reference", "must be the local_id of a person of the report",
				"La personne du séjour doit figurer parmi les personnes du rapport.")
		}
	}
	refersToStay := func(c *checker, stay string) {
		if ValidStayIdentifier(stay) && !stays[stay] {
			c.add("stay_identifier", "unknown_reference", "must be the identifier of a stay of the report",
				"Le séjour doit figurer parmi les séjours du rapport.")
		}
	}
	events := make(map[string]bool, len(r.Events))
	for i := range r.Events {
		e, ec := &r.Events[i], c.item("events", i)
		e.validate(ec)
		if events[e.Identifier] && e.Identifier != "" {
			ec.add("identifier", "duplicate", "must not repeat an earlier event", "Cet évènement figure deux fois dans le rapport.")
		}
		events[e.Identifier] = true
		refersToStay(ec, e.StayIdentifier)
	}
	slots := make(map[string]bool, len(r.PresenceAbsences))
	for i := range r.PresenceAbsences {
		pa, ac := &r.PresenceAbsences[i], c.item("presence_absences", i)
		pa.validate(ac)
		switch {
		case !ValidPresenceAbsenceIdentifier(pa.Identifier):
		case slots[pa.Identifier]:
			ac.add("identifier", "duplicate", "must not repeat an earlier presence or absence",
				"Cette présence ou absence figure deux fois dans le rapport.")
		default:
			ours(ac, "identifier", pa.Identifier)
		}
		slots[pa.Identifier] = true
		refersToStay(ac, pa.StayIdentifier)
	}
	return c.result()
}
