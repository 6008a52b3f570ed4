package activitycsv

import (
	"fmt"
	"strings"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// The forms of the TDDUI identifiers, for the messages.
const (
	formPerson = "des lettres et des chiffres, sans espace ni accent (par exemple U0042), ou 3<FINESS>/U0042"
	formStay   = "l'identifiant de l'usager, -SEJOUR- puis le numéro de dossier (par exemple U0042-SEJOUR-1), ou 3<FINESS>/U0042-SEJOUR-1"
	formPA     = "l'identifiant de l'usager, -PA- puis un numéro (par exemple U0042-PA-17), ou 3<FINESS>/U0042-PA-17"
)

// row reads one record: the cells, the canonical checks, the checks across
// rows; then hands the row on if it is valid.
func (f *fileReader) row(rec []string) error {
	f.rec, f.rowBad, f.badCols = rec, false, 0
	line, _ := f.cr.FieldPos(0)
	f.line = line + f.lineOffset
	for c, col := range f.sch.columns {
		if col.required && f.cols[c] >= 0 && strings.TrimSpace(f.cell(c)) == "" {
			msg := "la case est vide, alors que cette colonne est obligatoire."
			if col.typ != typeText {
				msg += " Attendu : " + col.format + "."
			}
			f.problem(c, codeRequired, msg)
		}
	}
	row := Row{Kind: f.res.Kind, File: f.res.Name, Line: f.line}
	switch f.res.Kind {
	case KindPersons:
		row.Person = f.person()
	case KindStays:
		row.Stay = f.stay()
	case KindEvents:
		row.Event = f.event()
	case KindPresences:
		row.Presence = f.presence()
	}
	if f.rowBad {
		return nil
	}
	f.res.ValidRows++
	if !f.v.opts.Partial && f.v.total > 0 {
		return nil
	}
	if err := f.v.handle(row); err != nil {
		return fmt.Errorf("handling the row at line %d of %s: %w", f.line, f.res.Name, err)
	}
	return nil
}

// cell is schema column c's raw cell, "" when the file lacks the column.
func (f *fileReader) cell(c int) string {
	if i := f.cols[c]; i >= 0 && i < len(f.rec) {
		return f.rec[i]
	}
	return ""
}

func (f *fileReader) bad(c int) bool { return f.badCols&(1<<c) != 0 }

// problem records a problem with schema column c of the current row.
func (f *fileReader) problem(c int, code, msg string) {
	f.rowBad = true
	f.badCols |= 1 << c
	line, col, header := f.line, 0, f.sch.columns[c].header
	if i := f.cols[c]; i >= 0 {
		col, header = i+1, f.header[i]
		if i < len(f.rec) {
			l, _ := f.cr.FieldPos(i)
			line = l + f.lineOffset
		}
	}
	f.v.add(Problem{File: f.res.Name, Line: line, Column: col, Header: header, Code: code, Message: place(line, header) + msg})
}

// rowProblem records a problem with the current row as a whole.
func (f *fileReader) rowProblem(code, msg string) {
	f.rowBad = true
	f.v.add(Problem{File: f.res.Name, Line: f.line, Code: code, Message: place(f.line, "") + msg})
}

// subject names a cell's value in a message: « value » when the column
// allows it (column.echo), "la valeur" otherwise.
func (f *fileReader) subject(c int, s string) string {
	if f.sch.columns[c].echo {
		if q, ok := quote(s); ok {
			return q
		}
	}
	return "la valeur"
}

// get returns column c's cell ready to read, "" when it is empty, absent
// or refused: characters checked, formulas refused, spaces trimmed; free
// text on one line, codes without spaces.
func (f *fileReader) get(c int) string {
	raw := f.cell(c)
	if raw == "" {
		return ""
	}
	if !cellOK(raw) {
		f.problem(c, codeInvalidEncoding, "la case contient des caractères illisibles (un autre encodage, ou des caractères de contrôle). Enregistrez le fichier au format « CSV UTF-8 », puis recommencez.")
		return ""
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	if formulaStart(raw) || formulaStart(s) {
		f.problem(c, codeFormulaInjection, "la case commence par =, +, -, @ ou une tabulation, qu'un tableur prendrait pour le début d'une formule. Retirez ce caractère.")
		return ""
	}
	switch f.sch.columns[c].typ {
	case typeText:
		if strings.ContainsAny(s, "\n\r\t") || strings.Contains(s, "  ") {
			s = strings.Join(strings.Fields(s), " ")
		}
	case typeCode:
		if strings.ContainsAny(s, " \u00a0") {
			s = strings.Join(strings.Fields(s), "")
		}
	}
	return s
}

// identifier reads a TDDUI identifier: the full form, 3<FINESS>/..., or
// the short form, what follows the slash, completed with the report's
// FINESS.
func (f *fileReader) identifier(c int, valid func(string) bool, form string) string {
	s := f.get(c)
	if s == "" {
		return ""
	}
	full := s
	if strings.IndexByte(s, '/') < 0 {
		full = f.v.prefix + s
	}
	switch finess := full[1:min(10, len(full))]; {
	case !valid(full):
		f.problem(c, codeInvalidFormat, "l'identifiant n'a pas la forme attendue : "+form+".")
	case !mapping.ValidFINESS(finess):
		f.problem(c, codeInvalidKey, "le numéro FINESS que porte l'identifiant (les 9 chiffres après le 3 du début) a une clé fausse. Vérifiez-le, ou n'écrivez que ce qui suit la barre oblique.")
	case finess != f.v.opts.FINESS:
		f.problem(c, codeFINESSMismatch, fmt.Sprintf(
			"l'identifiant porte un autre numéro FINESS que celui de l'établissement déclarant (%s). Corrigez-le, ou n'écrivez que ce qui suit la barre oblique.", f.v.opts.FINESS))
	default:
		return full
	}
	return ""
}

// personOf is the person part of a stay or presence identifier: the local
// id holds no dash, so it ends at the first one.
func personOf(id string) string {
	if i := strings.IndexByte(id, '-'); i >= 0 {
		return id[:i]
	}
	return id
}

func (f *fileReader) date(c int) mapping.Date {
	s := f.get(c)
	if s == "" {
		return ""
	}
	d, e := parseDate(s)
	switch e {
	case dateShape:
		f.problem(c, codeInvalidDate, f.subject(c, s)+" n'est pas une date au format jj/mm/aaaa.")
	case dateImpossible:
		f.problem(c, codeInvalidDate, f.subject(c, s)+" n'est pas une date valide.")
	}
	return d
}

func (f *fileReader) dateTime(c int, endOfDay bool) time.Time {
	s := f.get(c)
	if s == "" {
		return time.Time{}
	}
	t, e := parseDateTime(s, f.v.opts.Location, endOfDay)
	switch e {
	case dateShape:
		f.problem(c, codeInvalidDateTime, f.subject(c, s)+" n'est pas une date au format jj/mm/aaaa, suivie ou non d'une heure hh:mm.")
	case dateImpossible:
		f.problem(c, codeInvalidDateTime, f.subject(c, s)+" n'est pas une date et heure valide.")
	}
	return t
}

func (f *fileReader) boolean(c int) bool {
	s := f.get(c)
	v, ok := parseBool(s)
	if !ok {
		f.problem(c, codeInvalidValue, f.subject(c, s)+" n'est ni oui ni non. Écrivez oui ou non.")
	}
	return v
}

// canonical reports the canonical model's own findings on the row, each on
// the column of its field (column gives it; -1: the row), skipping
// columns already reported: a refused cell leaves its field empty, which
// the model would call missing.
func (f *fileReader) canonical(errs []*mapping.FieldError, column func(field string) int) {
	for _, fe := range errs {
		field := fe.Field
		if i := strings.IndexAny(field, ".["); i >= 0 {
			field = field[:i]
		}
		c := column(field)
		switch {
		case c < 0:
			f.rowProblem(fe.Code, lowerFirst(fe.Message))
		case !f.bad(c):
			f.problem(c, fe.Code, lowerFirst(fe.Message))
		}
	}
}

func (f *fileReader) byField(field string) int {
	if c, ok := f.sch.byField[field]; ok {
		return c
	}
	return -1
}

func (f *fileReader) person() *mapping.ReportPerson {
	rp := &mapping.ReportPerson{LocalID: f.identifier(pLocalID, validPersonID, formPerson)}
	p := &rp.Person
	p.BirthFamilyName = f.get(pBirthName)
	p.UsedName = f.get(pUsedName)
	if g := f.get(pGivenNames); g != "" {
		p.GivenNames = strings.FieldsFunc(g, func(r rune) bool { return r == ' ' || r == ',' })
	}
	if s := f.get(pSex); s != "" {
		sex, ok := parseSex(s)
		if !ok {
			f.problem(pSex, codeInvalidValue, "la valeur n'est pas un sexe reconnu. Écrivez F, M ou U (inconnu).")
		}
		p.Sex = sex
	}
	if s := f.get(pBirthDate); s != "" {
		d, ok := parseBirthDate(s)
		if !ok {
			f.problem(pBirthDate, codeInvalidDate, "la date de naissance n'est pas valide. Écrivez jj/mm/aaaa, mm/aaaa ou aaaa (00 pour un jour ou un mois inconnu).")
		}
		p.BirthDate = d
	}
	p.BirthPlaceCOG = f.get(pBirthPlace)
	p.BirthCountryCOG = f.get(pBirthCountry)
	if s := f.get(pINS); s != "" {
		p.INS = &mapping.INS{Value: strings.ToUpper(s), System: mapping.INSSystemNIR}
	}
	f.canonical(p.Validate(), f.byField)
	if rp.LocalID == "" || f.bad(pLocalID) {
		return rp
	}
	h := f.v.hash(rp.LocalID)
	if _, dup := f.v.persons[h]; dup {
		f.problem(pLocalID, codeDuplicate, "cet usager figure déjà plus haut (même identifiant). Chaque usager ne doit figurer qu'une fois.")
		return rp
	}
	f.v.persons[h] = !f.rowBad
	return rp
}

func (f *fileReader) stay() *mapping.Stay {
	s := &mapping.Stay{Identifier: f.identifier(sID, validStayID, formStay)}
	if s.Identifier != "" {
		s.PersonLocalID = personOf(s.Identifier)
	}
	// personCol is where a problem with the stay's person goes: the
	// person column when the file has it, else the stay's identifier.
	personCol := sID
	if p := f.identifier(sPerson, validPersonID, formPerson); p != "" {
		personCol = sPerson
		if s.Identifier != "" && p != s.PersonLocalID {
			f.problem(sPerson, codePersonMismatch, "l'usager ne correspond pas à celui que désigne l'identifiant du séjour (ce qui précède -SEJOUR-).")
		}
	}
	s.Start = f.date(sStart)
	s.End = f.date(sEnd)
	s.AdmissionDate = f.date(sAdmission)
	s.EntryMode = f.get(sEntryMode)
	s.ExitMode = f.get(sExitMode)
	if t := f.get(sServiceType); t != "" {
		s.ServiceType = &mapping.Coding{Display: t}
	}
	f.canonical(s.Validate(), func(field string) int {
		if field == "person_local_id" {
			if f.bad(sID) {
				return sID // the person comes from the stay's identifier
			}
			return personCol
		}
		return f.byField(field)
	})
	v := f.v
	switch {
	case s.Start != "" && !f.bad(sStart) && s.Start > v.opts.Period.End:
		f.problem(sStart, codeOutsidePeriod, fmt.Sprintf("%s est après la fin de la période du rapport (%s) : ce séjour ne la concerne pas.",
			f.subject(sStart, f.get(sStart)), frenchDate(v.opts.Period.End)))
	case s.End != "" && !f.bad(sEnd) && s.End < v.opts.Period.Start:
		f.problem(sEnd, codeOutsidePeriod, fmt.Sprintf("%s est avant le début de la période du rapport (%s) : ce séjour ne la concerne pas.",
			f.subject(sEnd, f.get(sEnd)), frenchDate(v.opts.Period.Start)))
	}
	if s.Identifier == "" || f.bad(sID) {
		return s
	}
	if f.refs && !f.bad(personCol) {
		valid, known := v.persons[v.hash(s.PersonLocalID)]
		switch {
		case !known:
			f.problem(personCol, codeUnknownReference, "l'usager de ce séjour ne figure pas dans le fichier des usagers.")
		case !valid:
			f.problem(personCol, codeInvalidReference, "la ligne de l'usager de ce séjour, dans le fichier des usagers, est en erreur : corrigez-la d'abord.")
		}
	}
	h := v.hash(s.Identifier)
	if _, dup := v.stays[h]; dup {
		f.problem(sID, codeDuplicate, "ce séjour figure déjà plus haut (même identifiant). Chaque séjour ne doit figurer qu'une fois.")
		return s
	}
	v.stays[h] = !f.rowBad
	return s
}

func (f *fileReader) event() *mapping.Event {
	e := &mapping.Event{
		Identifier:     f.get(eID),
		StayIdentifier: f.identifier(eStay, validStayID, formStay),
	}
	if s := f.get(eStatus); s != "" {
		st, ok := parseStatus(s)
		if !ok {
			f.problem(eStatus, codeInvalidValue, f.subject(eStatus, s)+" n'est pas un statut reconnu. Écrivez prévu, en cours, réalisé ou annulé.")
		}
		e.Status = st
	}
	e.Start = f.dateTime(eStart, false)
	e.End = f.dateTime(eEnd, true)
	if t := f.get(eType); t != "" {
		e.Type = &mapping.Coding{Display: t}
	}
	f.canonical(e.Validate(), f.byField)
	f.inPeriod(eStart, eEnd, e.Start, e.End)
	f.refersToStay(eStay, e.StayIdentifier)
	if e.Identifier != "" && !f.bad(eID) {
		h := f.v.hash(e.Identifier)
		if _, dup := f.v.events[h]; dup {
			f.problem(eID, codeDuplicate, "cet évènement figure déjà plus haut (même identifiant). Chaque évènement ne doit figurer qu'une fois.")
		} else {
			f.v.events[h] = struct{}{}
		}
	}
	return e
}

func (f *fileReader) presence() *mapping.PresenceAbsence {
	pa := &mapping.PresenceAbsence{
		Identifier:     f.identifier(aID, validPAID, formPA),
		StayIdentifier: f.identifier(aStay, validStayID, formStay),
	}
	if s := f.get(aKind); s != "" {
		k, ok := parseNature(s)
		if !ok {
			f.problem(aKind, codeInvalidValue, f.subject(aKind, s)+" n'est pas une nature reconnue. Écrivez présence ou absence (P ou A).")
		}
		pa.Kind = k
	}
	if r := f.get(aReason); r != "" {
		pa.Reason = &mapping.Coding{Display: r}
	}
	pa.Start = f.dateTime(aStart, false)
	var dur time.Duration
	if s := f.get(aDuration); s != "" {
		d, ok := parseHours(s)
		switch {
		case !ok:
			f.problem(aDuration, codeInvalidNumber, f.subject(aDuration, s)+" n'est pas un nombre d'heures. Écrivez par exemple 7,5 ou 7:30.")
		case d <= 0 || d > maxHours*time.Hour:
			f.problem(aDuration, codeOutOfRange, f.subject(aDuration, s)+" n'est pas une durée possible : elle doit être positive et d'au plus un an.")
		default:
			dur = d
		}
	}
	endCol := aEnd
	switch endCell := f.get(aEnd); {
	case endCell != "":
		pa.End = f.dateTime(aEnd, true)
		if dur > 0 && !pa.Start.IsZero() && !pa.End.IsZero() {
			if diff := pa.End.Sub(pa.Start.Add(dur)); diff > time.Minute || diff < -time.Minute {
				f.problem(aDuration, codeInconsistent, f.subject(aDuration, f.get(aDuration))+
					" ne correspond pas à l'écart entre le début et la fin. Corrigez l'une des trois cases, ou videz celle de la durée.")
			}
		}
	case dur > 0:
		endCol = aDuration
		if !pa.Start.IsZero() {
			pa.End = pa.Start.Add(dur)
		}
	case !f.bad(aEnd) && !f.bad(aDuration):
		missing := aEnd
		if f.cols[aEnd] < 0 {
			missing = aDuration // the file has only this one of the two
		}
		f.problem(missing, codeRequired, "la fin est obligatoire : remplissez la colonne « Fin » ou la colonne « Durée (heures) ».")
	}
	pa.Planned = f.boolean(aPlanned)
	pa.Invoiced = f.boolean(aInvoiced)
	f.canonical(pa.Validate(), func(field string) int {
		if field == "end" {
			// The end comes from the start and the duration when Fin is
			// empty: a refused one of those already explains it.
			for _, c := range []int{endCol, aStart, aDuration} {
				if f.bad(c) {
					return c
				}
			}
			return endCol
		}
		return f.byField(field)
	})
	f.inPeriod(aStart, endCol, pa.Start, pa.End)
	f.refersToStay(aStay, pa.StayIdentifier)
	if pa.Identifier != "" && !f.bad(aID) {
		h := f.v.hash(pa.Identifier)
		if _, dup := f.v.presences[h]; dup {
			f.problem(aID, codeDuplicate, "cette présence ou absence figure déjà plus haut (même identifiant). Chacune ne doit figurer qu'une fois.")
		} else {
			f.v.presences[h] = struct{}{}
		}
	}
	return pa
}

// inPeriod checks that an event or a presence lies inside the report's
// period.
func (f *fileReader) inPeriod(startCol, endCol int, start, end time.Time) {
	v := f.v
	msg := func(c int) string {
		return fmt.Sprintf("%s est en dehors de la période du rapport (du %s au %s).",
			f.subject(c, f.get(c)), frenchDate(v.opts.Period.Start), frenchDate(v.opts.Period.End))
	}
	if !start.IsZero() && !f.bad(startCol) && (start.Before(v.periodStart) || !start.Before(v.periodEnd)) {
		f.problem(startCol, codeOutsidePeriod, msg(startCol))
	}
	if !end.IsZero() && !f.bad(endCol) && !f.bad(startCol) && end.After(v.periodEnd) {
		f.problem(endCol, codeOutsidePeriod, msg(endCol))
	}
}

// refersToStay checks that an event or a presence refers to a stay read
// before, and a valid one.
func (f *fileReader) refersToStay(c int, stay string) {
	if stay == "" || f.bad(c) || !f.refs {
		return
	}
	valid, known := f.v.stays[f.v.hash(stay)]
	switch {
	case !known:
		f.problem(c, codeUnknownReference, "ce séjour ne figure pas dans le fichier des séjours.")
	case !valid:
		f.problem(c, codeInvalidReference, "la ligne de ce séjour, dans le fichier des séjours, est en erreur : corrigez-la d'abord.")
	}
}

// frenchDate writes a canonical date as jj/mm/aaaa.
func frenchDate(d mapping.Date) string {
	s := string(d)
	if len(s) != 10 {
		return s
	}
	return s[8:10] + "/" + s[5:7] + "/" + s[:4]
}
