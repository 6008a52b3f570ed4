package activitycsv

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want mapping.Date
		err  dateError
	}{
		{"31/12/2024", "2024-12-31", dateOK},
		{"1/2/2024", "2024-02-01", dateOK},
		{"01-02-2024", "2024-02-01", dateOK},
		{"01.02.2024", "2024-02-01", dateOK},
		{"2024-02-01", "2024-02-01", dateOK},
		{"29/02/2024", "2024-02-29", dateOK},
		{"29/02/2023", "", dateImpossible},
		{"31/02/2024", "", dateImpossible},
		{"00/02/2024", "", dateImpossible},
		{"12/13/2024", "", dateImpossible},
		{"2024-13-01", "", dateImpossible},
		{"01/01/1850", "", dateImpossible},
		{"01/02/24", "", dateShape},
		{"01/02-2024", "", dateShape},
		{"2024/02/01", "", dateShape},
		{"001/02/2024", "", dateShape},
		{"01/02/20245", "", dateShape},
		{"01/02/2024 10:00", "", dateShape},
		{"1er mars 2024", "", dateShape},
		{"", "", dateShape},
		{"/", "", dateShape},
	} {
		got, err := parseDate(tc.in)
		if got != tc.want || err != tc.err {
			t.Errorf("parseDate(%q) = %q, %d; want %q, %d", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	for _, tc := range []struct {
		in       string
		endOfDay bool
		want     string
		err      dateError
	}{
		{"05/02/2024 08:30", false, "2024-02-05T08:30:00+01:00", dateOK},
		{"05/02/2024 8:30:15", false, "2024-02-05T08:30:15+01:00", dateOK},
		{"05/07/2024 14h30", false, "2024-07-05T14:30:00+02:00", dateOK},
		{"05/07/2024 14h", false, "2024-07-05T14:00:00+02:00", dateOK},
		{"2024-07-05T14:30", false, "2024-07-05T14:30:00+02:00", dateOK},
		{"2024-07-05 14:30:00", false, "2024-07-05T14:30:00+02:00", dateOK},
		{"05/02/2024", false, "2024-02-05T00:00:00+01:00", dateOK},
		{"05/02/2024", true, "2024-02-05T23:59:59+01:00", dateOK},
		{"05/02/2024 24:00", false, "", dateImpossible},
		{"05/02/2024 10:60", false, "", dateImpossible},
		{"30/02/2024 10:00", false, "", dateImpossible},
		{"05/02/2024 10", false, "", dateShape},
		{"05/02/2024 10:0", false, "", dateShape},
		{"05/02/2024 10h5", false, "", dateShape},
		{"05/02/2024X10:00", false, "", dateShape},
		{"05/02/2024 10:00 +01", false, "", dateShape},
	} {
		got, err := parseDateTime(tc.in, paris, tc.endOfDay)
		s := ""
		if !got.IsZero() {
			s = got.Format(time.RFC3339)
		}
		if s != tc.want || err != tc.err {
			t.Errorf("parseDateTime(%q, %t) = %q, %d; want %q, %d", tc.in, tc.endOfDay, s, err, tc.want, tc.err)
		}
	}
}

func TestParseHours(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7,5", 7*time.Hour + 30*time.Minute, true},
		{"7.5", 7*time.Hour + 30*time.Minute, true},
		{"7,25", 7*time.Hour + 15*time.Minute, true},
		{",5", 30 * time.Minute, true},
		{"10", 10 * time.Hour, true},
		{"7:30", 7*time.Hour + 30*time.Minute, true},
		{"07:30:30", 7*time.Hour + 30*time.Minute + 30*time.Second, true},
		{"7h30", 7*time.Hour + 30*time.Minute, true},
		{"0,333333", 20 * time.Minute, true},
		{"7,", 0, false},
		{"7,5,5", 0, false},
		{"-1", 0, false},
		{"sept", 0, false},
		{"7:75", 0, false},
		{"1 000", 0, false},
		{"123456", 0, false},
	} {
		got, ok := parseHours(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseHours(%q) = %v, %t; want %v, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseBirthDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want mapping.PartialDate
		ok   bool
	}{
		{"14/03/1948", "1948-03-14", true},
		{"4/3/1948", "1948-03-04", true},
		{"00/03/1948", "1948-03", true},
		{"00/00/1948", "1948", true},
		{"03/1948", "1948-03", true},
		{"1948", "1948", true},
		{"1948-03-14", "1948-03-14", true},
		{"1948-03", "1948-03", true},
		{"14/00/1948", "", false},
		{"31/02/1948", "", false},
		{"14/03/48", "", false},
		{"/03/1948", "", false},
		{"14/03/1948/1", "", false},
	} {
		got, ok := parseBirthDate(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseBirthDate(%q) = %q, %t; want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNormalizeHeader(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Date d'entrée":                   "date entree",
		"date_entree":                     "date entree",
		"DATE ENTREE":                     "date entree",
		"  Date  d’Entrée ":               "date entree",
		"Date-d-entrée":                   "date entree",
		"Durée (heures)":                  "duree heures",
		"N° usager":                       "n usager",
		"Identifiant de l'usager":         "identifiant usager",
		"Modalité d'accueil":              "modalite accueil",
		"Prénom(s)":                       "prenom s",
		"Commune de naissance (code COG)": "commune naissance code cog",
		"Œuvre":                           "oeuvre",
		"":                                "",
	} {
		if got := normalizeHeader(in); got != want {
			t.Errorf("normalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindFromName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Kind{
		"usagers.csv":               KindPersons,
		"export/Personnes 2024.CSV": KindPersons,
		"Séjours.csv":               KindStays,
		"evenements_2024.csv":       KindEvents,
		"Événements.csv":            KindEvents,
		"presences-absences.csv":    KindPresences,
		`C:\exports\Absences.csv`:   KindPresences,
		"donnees.csv":               KindUnknown,
	} {
		if got := kindFromName(name); got != want {
			t.Errorf("kindFromName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestTDDUIShapes holds the hand-written identifier checks to the
// canonical model's regular expressions.
func TestTDDUIShapes(t *testing.T) {
	t.Parallel()
	ids := []string{
		"3750000010/U42", "3750000010/U42-SEJOUR-1", "3750000010/U42-PA-7", "3750000010/", "3750000010/U-42",
		"375000001/U42", "4750000010/U42", "3750000010U42", "3750000010/U42-SEJOUR-", "3750000010/-SEJOUR-1",
		"3750000010/U42-SEJOUR-1-SEJOUR-2", "3750000010/U42-PA-1-PA-2", "3750000010/U42-sejour-1", "3750000010/U42-PA-7 ",
		"3750000010/Ü42", "37500a0010/U42", "3750000010/U42-SEJOUR-1/2", "3750000010/U42-SEJOURS-1", "",
	}
	for _, id := range ids {
		for _, c := range []struct {
			name      string
			ours, ref func(string) bool
		}{
			{"person", validPersonID, mapping.ValidPersonLocalID},
			{"stay", validStayID, mapping.ValidStayIdentifier},
			{"presence", validPAID, mapping.ValidPresenceAbsenceIdentifier},
		} {
			if c.ours(id) != c.ref(id) {
				t.Errorf("%s %q: ours %t, the model's %t", c.name, id, c.ours(id), c.ref(id))
			}
		}
	}
}

func FuzzTDDUIShapes(f *testing.F) {
	f.Add("3750000010/U42-SEJOUR-1")
	f.Add("3750000010/U42-PA-7")
	f.Fuzz(func(t *testing.T, id string) {
		if validPersonID(id) != mapping.ValidPersonLocalID(id) || validStayID(id) != mapping.ValidStayIdentifier(id) ||
			validPAID(id) != mapping.ValidPresenceAbsenceIdentifier(id) {
			t.Fatalf("%q: the hand-written check and the model's disagree", id)
		}
	})
}

func TestSniffSeparator(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		head string
		sep  byte
		skip int
	}{
		{"a;b;c\n1,2;3", ';', 0},
		{"a,b,c\n1;2;3;4;5", ',', 0},
		{"a\tb\tc\n", '\t', 0},
		{"\"a;b\",c,d\n", ',', 0},
		{"\"x,y,z\";b\n", ';', 0},
		{"a\n", ';', 0},
		{"a,b;c\n", ';', 0},
		{"sep=,\na;b,c\n", ',', 6},
		{"SEP=;\r\na,b,c\n", ';', 7},
	} {
		sep, skip := sniffSeparator([]byte(tc.head))
		if sep != tc.sep || skip != tc.skip {
			t.Errorf("sniffSeparator(%q) = %q, %d; want %q, %d", tc.head, sep, skip, tc.sep, tc.skip)
		}
	}
}

func TestDecoder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		enc      Encoding
	}{
		{"abc", "abc", EncodingASCII},
		{"\xEF\xBB\xBFabc", "abc", EncodingUTF8BOM},
		{"abc;\xC3\xA9t\xC3\xA9", "abc;été", EncodingUTF8},
		{"abc;\xE9t\xE9;\x80", "abc;été;€", EncodingWindows1252},
		{strings.Repeat("x", 70000) + "\xE9", strings.Repeat("x", 70000) + "é", EncodingWindows1252},
		{"a\xC3", "a\u00c3", EncodingWindows1252}, // a UTF-8 sequence cut by the end of the file
		{"a\xE9\x81", "aé\uFFFD", EncodingWindows1252},
	} {
		d := newDecoder(strings.NewReader(tc.in))
		got, err := io.ReadAll(d)
		if err != nil || string(got) != tc.want || d.encoding != tc.enc {
			t.Errorf("decoding %.20q: %.20q, %s, %v; want %.20q, %s", tc.in, got, d.encoding, err, tc.want, tc.enc)
		}
	}
	d := newDecoder(strings.NewReader("\xFF\xFEa\x00"))
	if _, err := io.ReadAll(d); !errors.Is(err, errUTF16) || d.encoding != EncodingUTF16 {
		t.Errorf("UTF-16: %v, %s", err, d.encoding)
	}
}

// TestSchemas checks the column tables: each kind's columns are in the
// order of its constants, and every canonical field maps back to one.
func TestSchemas(t *testing.T) {
	t.Parallel()
	checks := map[Kind]map[int]string{
		KindPersons:   {pLocalID: "local_id", pINS: "ins"},
		KindStays:     {sID: "identifier", sServiceType: "service_type"},
		KindEvents:    {eID: "identifier", eType: "type"},
		KindPresences: {aID: "identifier", aInvoiced: "invoiced"},
	}
	for k, cols := range checks {
		s := schemaOf(k)
		if len(s.columns) > 64 {
			t.Errorf("%v: %d columns, the row's problem mask holds 64", k, len(s.columns))
		}
		for i, field := range cols {
			if s.columns[i].field != field {
				t.Errorf("%v: column %d is %q, want %q", k, i, s.columns[i].field, field)
			}
		}
	}
	// Events and presences share their reference column index with stays'
	// person column: bindHeader relies on it.
	if sPerson != eStay || eStay != aStay {
		t.Error("sPerson, eStay and aStay must be the same index")
	}
}
