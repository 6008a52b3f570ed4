package activitycsv

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/relais-dev/relais/mapping"
)

// dateError says why a date cell was refused.
type dateError int

const (
	dateOK dateError = iota
	// dateShape: not in a form we read (2024/31/12, 12-2024, a word).
	dateShape
	// dateImpossible: the form is right, the date does not exist
	// (31/02/2024, 12/13/2024, 25:00).
	dateImpossible
)

// dateParts reads a date in the French form j/m/aaaa (day and month of one
// or two digits; "/", "-" or "." between them) or the ISO form aaaa-mm-jj.
// It returns the date and the rest of s after it. It does not check that
// the date exists.
func dateParts(s string) (year, month, day int, rest string, e dateError) {
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		y, okY := number(s[:4])
		m, okM := number(s[5:7])
		d, okD := number(s[8:10])
		if !okY || !okM || !okD {
			return 0, 0, 0, "", dateShape
		}
		return y, m, d, s[10:], dateOK
	}
	d, n := leadingDigits(s, 2)
	if n == 0 || n >= len(s) || !isDateSep(s[n]) {
		return 0, 0, 0, "", dateShape
	}
	i := n + 1
	m, n := leadingDigits(s[i:], 2)
	if n == 0 || i+n >= len(s) || s[i+n] != s[i-1] {
		return 0, 0, 0, "", dateShape
	}
	i += n + 1
	y, n := leadingDigits(s[i:], 4)
	if n != 4 {
		return 0, 0, 0, "", dateShape
	}
	return y, m, d, s[i+n:], dateOK
}

func isDateSep(b byte) bool { return b == '/' || b == '-' || b == '.' }

// leadingDigits reads up to max ASCII digits at the start of s; it reports
// how many it read, or 0 when more follow than max allows.
func leadingDigits(s string, limit int) (v, n int) {
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		if n == limit {
			return 0, 0
		}
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

// number parses a string of ASCII digits.
func number(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	v := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

func validDay(year, month, day int) bool {
	if year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// formatDate writes a canonical date without fmt.
func formatDate(year, month, day int) mapping.Date {
	var b [10]byte
	b[0], b[1], b[2], b[3] = byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10)
	b[4], b[7] = '-', '-'
	b[5], b[6] = byte('0'+month/10), byte('0'+month%10)
	b[8], b[9] = byte('0'+day/10), byte('0'+day%10)
	return mapping.Date(b[:])
}

// parseDate reads a calendar date: jj/mm/aaaa (or j/m/aaaa, with - or .),
// or aaaa-mm-jj. Years run from 1900 to 2199.
func parseDate(s string) (mapping.Date, dateError) {
	y, m, d, rest, e := dateParts(s)
	switch {
	case e != dateOK:
		return "", e
	case rest != "":
		return "", dateShape
	case !validDay(y, m, d):
		return "", dateImpossible
	}
	return formatDate(y, m, d), dateOK
}

// parseDateTime reads a date and time: a date as parseDate reads it, then,
// after a space or a T, hh:mm, hh:mm:ss or the French 14h30 and 14h. A date
// alone is the start of the day, or its last second when endOfDay is set.
// The time is local time in loc.
func parseDateTime(s string, loc *time.Location, endOfDay bool) (time.Time, dateError) {
	y, m, d, rest, e := dateParts(s)
	if e != dateOK {
		return time.Time{}, e
	}
	hour, minute, sec := 0, 0, 0
	switch {
	case rest == "":
		if endOfDay {
			hour, minute, sec = 23, 59, 59
		}
	case rest[0] == ' ' || rest[0] == 'T':
		var ok bool
		hour, minute, sec, ok = clock(strings.TrimLeft(rest[1:], " "))
		if !ok {
			return time.Time{}, dateShape
		}
	default:
		return time.Time{}, dateShape
	}
	if !validDay(y, m, d) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, dateImpossible
	}
	return time.Date(y, time.Month(m), d, hour, minute, sec, 0, loc), dateOK
}

// clock reads hh:mm, hh:mm:ss, 14h30 or 14h (one or two digits for the
// hour). It does not check ranges.
func clock(s string) (hour, minute, sec int, ok bool) {
	h, n := leadingDigits(s, 2)
	if n == 0 || n == len(s) {
		return 0, 0, 0, false
	}
	switch sep, rest := s[n], s[n+1:]; {
	case sep == 'h' || sep == 'H':
		if rest == "" {
			return h, 0, 0, true
		}
		mi, ok := twoDigits(rest)
		return h, mi, 0, ok
	case sep == ':':
		if len(rest) == 5 && rest[2] == ':' {
			mi, okM := twoDigits(rest[:2])
			se, okS := twoDigits(rest[3:])
			return h, mi, se, okM && okS
		}
		mi, ok := twoDigits(rest)
		return h, mi, 0, ok
	}
	return 0, 0, 0, false
}

func twoDigits(s string) (int, bool) {
	if len(s) != 2 {
		return 0, false
	}
	return number(s)
}

// maxHours bounds a duration: a year.
const maxHours = 366 * 24

// parseHours reads a number of hours: digits with a comma (or dot)
// decimal mark, "7,5" or "7.5", or hours and minutes, "7:30", "7:30:00",
// "7h30". It returns the duration and whether s is a number of hours at
// all; the caller checks the range.
func parseHours(s string) (time.Duration, bool) {
	if strings.ContainsAny(s, ":hH") {
		h, mi, sec, ok := clock(s)
		if !ok || mi > 59 || sec > 59 {
			return 0, false
		}
		return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second, true
	}
	intPart, frac := s, ""
	if i := strings.IndexAny(s, ",."); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
		if frac == "" {
			return 0, false
		}
	}
	if intPart == "" {
		intPart = "0"
	}
	if len(intPart) > 5 || len(frac) > 6 {
		return 0, false
	}
	h, ok := number(intPart)
	if !ok {
		return 0, false
	}
	d := time.Duration(h) * time.Hour
	scale := time.Hour
	for i := range len(frac) {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		scale /= 10
		d += time.Duration(c-'0') * scale
	}
	return d.Round(time.Second), true
}

// parseBirthDate reads a birth date that may lack its day, or its month
// and day: jj/mm/aaaa, mm/aaaa, aaaa, or ISO aaaa-mm-jj, aaaa-mm; "00"
// stands for an unknown day or month, as in civil status extracts.
func parseBirthDate(s string) (mapping.PartialDate, bool) {
	var iso string
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 3 && len(parts[2]) == 4 && len(parts[1]) <= 2 && len(parts[0]) <= 2:
		iso = parts[2] + "-" + pad2(parts[1]) + "-" + pad2(parts[0])
	case len(parts) == 2 && len(parts[1]) == 4 && len(parts[0]) <= 2:
		iso = parts[1] + "-" + pad2(parts[0])
	case len(parts) == 1:
		iso = s
	default:
		return "", false
	}
	d, err := mapping.ParsePartialDate(iso)
	return d, err == nil
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

// fold lowers a short word and removes the accents of French letters, for
// the enumerations: "Réalisé", "REALISE" and "réalisé" give "realise". It
// allocates only for a word with capitals or accents.
func fold(s string) string {
	ascii := true
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(unicode.ToLower(r)))
	}
	return b.String()
}

// foldRune removes the accent of a lower-case French letter.
func foldRune(r rune) rune {
	switch r {
	case 'à', 'â', 'ä', 'á', 'ã':
		return 'a'
	case 'ç':
		return 'c'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'î', 'ï', 'í', 'ì':
		return 'i'
	case 'ô', 'ö', 'ó', 'ò', 'õ':
		return 'o'
	case 'ù', 'û', 'ü', 'ú':
		return 'u'
	case 'ÿ':
		return 'y'
	}
	return r
}

// alnum reports a non-empty string of ASCII letters and digits.
func alnum(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// tdduiShape checks the TDDUI identifier forms without a regular
// expression, on the hot path: "3", 9 digits, "/", the person's local id
// (letters and digits), then, when infix is not empty, infix and letters
// and digits. It accepts exactly what mapping.ValidPersonLocalID (infix
// ""), mapping.ValidStayIdentifier ("-SEJOUR-") and
// mapping.ValidPresenceAbsenceIdentifier ("-PA-") accept; a test holds it.
func tdduiShape(s, infix string) bool {
	if len(s) < 12 || s[0] != '3' || s[10] != '/' {
		return false
	}
	for i := 1; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	rest := s[11:]
	if infix == "" {
		return alnum(rest)
	}
	// The local id holds no dash: the first dash starts the infix.
	i := strings.IndexByte(rest, '-')
	return i > 0 && strings.HasPrefix(rest[i:], infix) && alnum(rest[:i]) && alnum(rest[i+len(infix):])
}

func validPersonID(s string) bool { return tdduiShape(s, "") }
func validStayID(s string) bool   { return tdduiShape(s, "-SEJOUR-") }
func validPAID(s string) bool     { return tdduiShape(s, "-PA-") }

// parseBool reads oui or non; an empty cell is non.
func parseBool(s string) (v, ok bool) {
	switch fold(s) {
	case "", "non", "n", "faux", "0", "no", "false":
		return false, true
	case "oui", "o", "vrai", "1", "x", "yes", "true":
		return true, true
	}
	return false, false
}

func parseSex(s string) (mapping.Sex, bool) {
	switch fold(s) {
	case "f", "feminin", "femme", "fille":
		return mapping.SexFemale, true
	case "m", "h", "masculin", "homme", "garcon":
		return mapping.SexMale, true
	case "u", "i", "inconnu", "indetermine", "non renseigne":
		return mapping.SexUnknown, true
	}
	return "", false
}

func parseStatus(s string) (mapping.EventStatus, bool) {
	switch fold(s) {
	case "prevu", "planifie", "programme", "planned":
		return mapping.EventPlanned, true
	case "en cours", "trie", "triaged":
		return mapping.EventTriaged, true
	case "realise", "termine", "effectue", "fait", "finished":
		return mapping.EventFinished, true
	case "annule", "cancelled", "canceled":
		return mapping.EventCancelled, true
	}
	return "", false
}

func parseNature(s string) (mapping.PresenceKind, bool) {
	switch fold(s) {
	case "presence", "present", "presente", "p":
		return mapping.Presence, true
	case "absence", "absent", "absente", "a":
		return mapping.Absence, true
	}
	return "", false
}

// ParseDate reads a date as the files write it, jj/mm/aaaa (or j/m/aaaa,
// with "-" or "." instead of "/"), or as ISO 8601 writes it, aaaa-mm-jj.
func ParseDate(s string) (mapping.Date, bool) {
	d, e := parseDate(strings.TrimSpace(s))
	return d, e == dateOK
}
