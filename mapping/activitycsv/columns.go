package activitycsv

import (
	"path"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Kind is what the rows of a file are.
type Kind int

// Kinds of file, in the order Read reads them: a stay refers to a person,
// events and presences to a stay.
const (
	KindUnknown Kind = iota
	// KindPersons: the persons accompanied ("usagers").
	KindPersons
	// KindStays: their stays ("séjours").
	KindStays
	// KindEvents: the events of the stays ("évènements").
	KindEvents
	// KindPresences: the presences and absences.
	KindPresences
)

// Kinds lists the kinds of file in reading order.
func Kinds() []Kind { return []Kind{KindPersons, KindStays, KindEvents, KindPresences} }

func (k Kind) String() string {
	switch k {
	case KindPersons:
		return "persons"
	case KindStays:
		return "stays"
	case KindEvents:
		return "events"
	case KindPresences:
		return "presences"
	default:
		return "unknown"
	}
}

// label is the French name of the file of that kind, after "le fichier des".
func (k Kind) label() string {
	switch k {
	case KindPersons:
		return "usagers"
	case KindStays:
		return "séjours"
	case KindEvents:
		return "évènements"
	case KindPresences:
		return "présences et absences"
	default:
		return "données"
	}
}

// TemplateName is the file name of the kind's template and of the files
// the generator writes: "usagers.csv", "sejours.csv", "evenements.csv",
// "presences.csv".
func (k Kind) TemplateName() string {
	switch k {
	case KindPersons:
		return "usagers.csv"
	case KindStays:
		return "sejours.csv"
	case KindEvents:
		return "evenements.csv"
	case KindPresences:
		return "presences.csv"
	default:
		return ""
	}
}

// valueType says how a column's cells are read.
type valueType int

const (
	// typeID: an identifier; checked for formula injection, never echoed.
	typeID valueType = iota
	// typeText: free text or a name; checked for formula injection, white
	// space (new lines included) collapsed to single spaces, never echoed.
	typeText
	// typeCode: a short code (sex, COG, INS); spaces removed.
	typeCode
	// typeDate: jj/mm/aaaa.
	typeDate
	// typePartialDate: jj/mm/aaaa, mm/aaaa or aaaa (a birth date).
	typePartialDate
	// typeDateTime: jj/mm/aaaa hh:mm, or a date alone.
	typeDateTime
	// typeHours: a number of hours, comma decimal mark (7,5) or h:mm.
	typeHours
	// typeEnum: one of a few words.
	typeEnum
	// typeBool: oui or non.
	typeBool
)

// column is one column of a kind of file.
type column struct {
	// header is the documented header, the one templates write.
	header string
	// field is the canonical field the column fills: the first segment of
	// the JSON path its errors carry ("birth_family_name", "ins", "start").
	field string
	// aliases are other headers accepted, written as people write them;
	// they are compared after normalisation (see normalizeHeader).
	aliases []string
	typ     valueType
	// required columns must be in the header line; their cells must not be
	// empty, except where the row's rules say otherwise (Fin or Durée).
	required bool
	// echo allows messages to quote the cell's value: only for values that
	// say nothing about a person on their own (dates of activity, statuses,
	// durations, yes or no). Names, identifiers, birth data, the INS and
	// free text are never quoted.
	echo bool
	// format is the expected form, in French, for the documentation.
	format string
}

// schema is the columns of a kind of file.
type schema struct {
	kind    Kind
	columns []column
	// byHeader maps every accepted header, normalised, to its column.
	byHeader map[string]int
	// byField maps a canonical field to its column.
	byField map[string]int
}

// Column indices of each kind, in the order of its columns.
const (
	pLocalID = iota
	pBirthName
	pUsedName
	pGivenNames
	pSex
	pBirthDate
	pBirthPlace
	pBirthCountry
	pINS
)

const (
	sID = iota
	sPerson
	sStart
	sEnd
	sAdmission
	sEntryMode
	sExitMode
	sServiceType
)

const (
	eID = iota
	eStay
	eStatus
	eStart
	eEnd
	eType
)

const (
	aID = iota
	aStay
	aKind
	aReason
	aStart
	aEnd
	aDuration
	aPlanned
	aInvoiced
)

var personAliases = []string{"Id usager", "N° usager", "Numéro usager", "Identifiant personne", "Identifiant local", "Identifiant de l'usager"}

var stayAliases = []string{"Id séjour", "Identifiant du séjour", "Séjour"}

// schemas are the four kinds' columns, read-only once built.
var schemas = [...]*schema{
	KindPersons: newSchema(KindPersons, []column{
		pLocalID: {header: "Identifiant usager", field: "local_id", aliases: personAliases, typ: typeID, required: true,
			format: "U0042, ou 3<FINESS>/U0042"},
		pBirthName: {header: "Nom de naissance", field: "birth_family_name", aliases: []string{"Nom de famille", "Nom naissance"},
			typ: typeText, required: true, format: "texte"},
		pUsedName: {header: "Nom d'usage", field: "used_name", aliases: []string{"Nom usage", "Nom utilisé"},
			typ: typeText, format: "texte"},
		pGivenNames: {header: "Prénoms", field: "given_names", aliases: []string{"Prénom", "Prénom(s)", "Liste des prénoms"},
			typ: typeText, required: true, format: "prénoms séparés par des espaces, dans l'ordre de l'état civil"},
		pSex: {header: "Sexe", field: "sex", typ: typeCode, required: true, format: "F, M ou U (inconnu)"},
		pBirthDate: {header: "Date de naissance", field: "birth_date", aliases: []string{"Naissance", "Né le", "Née le"},
			typ: typePartialDate, required: true, format: "jj/mm/aaaa, mm/aaaa ou aaaa"},
		pBirthPlace: {header: "Commune de naissance (code COG)", field: "birth_place_cog",
			aliases: []string{"Commune de naissance", "Code commune de naissance", "Lieu de naissance", "COG commune de naissance"},
			typ:     typeCode, format: "code COG de l'Insee, 5 caractères (75056)"},
		pBirthCountry: {header: "Pays de naissance (code COG)", field: "birth_country_cog",
			aliases: []string{"Pays de naissance", "Code pays de naissance", "COG pays de naissance"},
			typ:     typeCode, format: "code COG de l'Insee, 99 puis 3 chiffres (99100 pour la France)"},
		pINS: {header: "INS", field: "ins", aliases: []string{"Matricule INS", "NIR", "Numéro INS"},
			typ: typeCode, format: "15 caractères, clé comprise"},
	}),
	KindStays: newSchema(KindStays, []column{
		sID: {header: "Identifiant séjour", field: "identifier", aliases: stayAliases, typ: typeID, required: true,
			format: "U0042-SEJOUR-1, ou 3<FINESS>/U0042-SEJOUR-1"},
		sPerson: {header: "Identifiant usager", field: "person_local_id", aliases: personAliases, typ: typeID,
			format: "U0042, ou 3<FINESS>/U0042"},
		sStart: {header: "Date d'entrée", field: "start", aliases: []string{"Entrée", "Date de début de séjour", "Début de séjour"},
			typ: typeDate, required: true, echo: true, format: "jj/mm/aaaa"},
		sEnd: {header: "Date de sortie", field: "end", aliases: []string{"Sortie", "Date de fin de séjour", "Fin de séjour"},
			typ: typeDate, echo: true, format: "jj/mm/aaaa"},
		sAdmission: {header: "Date d'admission", field: "admission_date", aliases: []string{"Admission"},
			typ: typeDate, echo: true, format: "jj/mm/aaaa"},
		sEntryMode:   {header: "Mode d'entrée", field: "entry_mode", typ: typeText, format: "texte"},
		sExitMode:    {header: "Mode de sortie", field: "exit_mode", typ: typeText, format: "texte"},
		sServiceType: {header: "Modalité d'accueil", field: "service_type", aliases: []string{"Mode d'accueil"}, typ: typeText, format: "texte"},
	}),
	KindEvents: newSchema(KindEvents, []column{
		eID: {header: "Identifiant évènement", field: "identifier", aliases: []string{"Identifiant événement", "Id évènement", "Id événement"},
			typ: typeID, required: true, format: "1 à 128 lettres, chiffres ou . _ : / -"},
		eStay: {header: "Identifiant séjour", field: "stay_identifier", aliases: stayAliases, typ: typeID, required: true,
			format: "U0042-SEJOUR-1, ou 3<FINESS>/U0042-SEJOUR-1"},
		eStatus: {header: "Statut", field: "status", aliases: []string{"État", "Statut de l'évènement"}, typ: typeEnum, required: true, echo: true,
			format: "prévu, en cours, réalisé ou annulé"},
		eStart: {header: "Début", field: "start", aliases: []string{"Date de début", "Date et heure de début"},
			typ: typeDateTime, required: true, echo: true, format: "jj/mm/aaaa hh:mm, ou jj/mm/aaaa"},
		eEnd: {header: "Fin", field: "end", aliases: []string{"Date de fin", "Date et heure de fin"},
			typ: typeDateTime, required: true, echo: true, format: "jj/mm/aaaa hh:mm, ou jj/mm/aaaa"},
		eType: {header: "Type d'évènement", field: "type", aliases: []string{"Type", "Type d'événement", "Prestation"},
			typ: typeText, format: "texte"},
	}),
	KindPresences: newSchema(KindPresences, []column{
		aID: {header: "Identifiant présence", field: "identifier",
			aliases: []string{"Id présence", "Identifiant présence absence", "Identifiant de la présence", "Id présence absence"},
			typ:     typeID, required: true, format: "U0042-PA-17, ou 3<FINESS>/U0042-PA-17"},
		aStay: {header: "Identifiant séjour", field: "stay_identifier", aliases: stayAliases, typ: typeID, required: true,
			format: "U0042-SEJOUR-1, ou 3<FINESS>/U0042-SEJOUR-1"},
		aKind: {header: "Nature", field: "kind", aliases: []string{"Présence ou absence", "Présence/absence"},
			typ: typeEnum, required: true, echo: true, format: "présence ou absence (P ou A)"},
		aReason: {header: "Motif d'absence", field: "reason", aliases: []string{"Motif"}, typ: typeText,
			format: "texte, obligatoire pour une absence"},
		aStart: {header: "Début", field: "start", aliases: []string{"Date de début", "Date et heure de début"},
			typ: typeDateTime, required: true, echo: true, format: "jj/mm/aaaa hh:mm, ou jj/mm/aaaa"},
		aEnd: {header: "Fin", field: "end", aliases: []string{"Date de fin", "Date et heure de fin"},
			typ: typeDateTime, echo: true, format: "jj/mm/aaaa hh:mm, ou jj/mm/aaaa; Fin ou Durée"},
		aDuration: {header: "Durée (heures)", field: "duration", aliases: []string{"Durée", "Durée (h)", "Nombre d'heures", "Heures"},
			typ: typeHours, echo: true, format: "7,5 ou 7:30"},
		aPlanned: {header: "Absence prévue", field: "planned", aliases: []string{"Prévue"}, typ: typeBool, echo: true, format: "oui ou non"},
		aInvoiced: {header: "Facturée", field: "invoiced", aliases: []string{"Facturé", "Facturation"},
			typ: typeBool, echo: true, format: "oui ou non"},
	}),
}

func newSchema(k Kind, cols []column) *schema {
	s := &schema{kind: k, columns: cols, byHeader: map[string]int{}, byField: map[string]int{}}
	for i, c := range cols {
		for _, h := range append([]string{c.header}, c.aliases...) {
			key := normalizeHeader(h)
			if j, dup := s.byHeader[key]; dup && j != i {
				panic("activitycsv: header " + h + " names two columns of " + k.String())
			}
			s.byHeader[key] = i
		}
		s.byField[c.field] = i
	}
	return s
}

func schemaOf(k Kind) *schema {
	if k <= KindUnknown || int(k) >= len(schemas) {
		return nil
	}
	return schemas[k]
}

// headerStopWords are dropped from headers: "Date d'entrée" and
// "date_entree" are the same header.
var headerStopWords = map[string]bool{"d": true, "de": true, "du": true, "des": true, "l": true, "la": true,
	"le": true, "les": true, "en": true, "a": true}

// normalizeHeader folds a header to the form columns are looked up by:
// lower case, accents removed, every run of characters other than letters
// and digits (spaces, underscores, apostrophes, dashes, brackets, °) made
// one space, and the French articles and prepositions d', de, du, des, l',
// la, le, les, en, à dropped. "Date d'entrée", "date_entree" and
// "DATE ENTREE" all give "date entree".
func normalizeHeader(s string) string {
	var tokens []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			if t := cur.String(); !headerStopWords[t] {
				tokens = append(tokens, t)
			}
			cur.Reset()
		}
	}
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// an accent, decomposed from its letter
		case r == 'œ' || r == 'Œ':
			cur.WriteString("oe")
		case r == 'æ' || r == 'Æ':
			cur.WriteString("ae")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return strings.Join(tokens, " ")
}

// kindFromName guesses a file's kind from its name ("usagers.csv",
// "export/Sejours 2024.csv"); KindUnknown when the name says nothing.
func kindFromName(name string) Kind {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	n := strings.ReplaceAll(normalizeHeader(strings.TrimSuffix(base, path.Ext(base))), " ", "")
	switch {
	case strings.Contains(n, "presence") || strings.Contains(n, "absence") || strings.Contains(n, "pointage"):
		return KindPresences
	case strings.Contains(n, "evenement") || strings.Contains(n, "event") || strings.Contains(n, "acte"):
		return KindEvents
	case strings.Contains(n, "sejour") || strings.Contains(n, "stay"):
		return KindStays
	case strings.Contains(n, "usager") || strings.Contains(n, "personne") || strings.Contains(n, "person") ||
		strings.Contains(n, "beneficiaire") || strings.Contains(n, "patient"):
		return KindPersons
	}
	return KindUnknown
}

// kindFromHeaders picks the kind whose columns the headers name most; a
// tie is broken by the file's name. It returns KindUnknown when no header
// is known or the tie stays.
func kindFromHeaders(headers []string, name string) Kind {
	best, bestScore, tie := KindUnknown, 0, false
	for _, k := range Kinds() {
		s := schemaOf(k)
		score := 0
		for _, h := range headers {
			if _, ok := s.byHeader[normalizeHeader(h)]; ok {
				score++
			}
		}
		switch {
		case score > bestScore:
			best, bestScore, tie = k, score, false
		case score == bestScore && score > 0:
			tie = true
		}
	}
	byName := kindFromName(name)
	switch {
	case bestScore == 0:
		return byName
	case !tie:
		return best
	}
	// A tie: the name decides, if it names one of the tied kinds.
	if byName != KindUnknown {
		s := schemaOf(byName)
		score := 0
		for _, h := range headers {
			if _, ok := s.byHeader[normalizeHeader(h)]; ok {
				score++
			}
		}
		if score == bestScore {
			return byName
		}
	}
	return KindUnknown
}
