package activitycsv_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mapping/activitycsv"
)

// at is where a problem is expected, and its code.
type at struct {
	file      string
	line, col int
	code      string
}

func (a at) String() string { return fmt.Sprintf("%s:%d:%d %s", a.file, a.line, a.col, a.code) }

// Lines of the valid files, to build the cases from.
const (
	presHeader    = "Identifiant présence;Identifiant séjour;Nature;Motif d'absence;Début;Fin;Durée (heures);Absence prévue;Facturée\n"
	presRow2      = "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;7,5;;oui\n"
	presRow3      = "U1-PA-2;U1-SEJOUR-1;absence;Hospitalisation;06/02/2024;06/02/2024;;non;non\n"
	personsHeader = "Identifiant usager;Nom de naissance;Nom d'usage;Prénoms;Sexe;Date de naissance;Commune de naissance (code COG);Pays de naissance (code COG);INS\n"
	personsRow2   = "U1;Martin;;Léa;F;12/05/1980;75056;99100;\n"
	staysHeader   = "Identifiant séjour;Identifiant usager;Date d'entrée;Date de sortie;Date d'admission;Mode d'entrée;Mode de sortie;Modalité d'accueil\n"
	staysRow2     = "U1-SEJOUR-1;U1;01/09/2023;;;Domicile;;Accueil de jour\n"
	eventsHeader  = "Identifiant évènement;Identifiant séjour;Statut;Début;Fin;Type d'évènement\n"
)

// persons2 is the persons file with its second person replaced.
func persons2(row string) string { return personsHeader + personsRow2 + row + "\n" }

// stays2 is the stays file with its second stay replaced.
func stays2(row string) string { return staysHeader + staysRow2 + row + "\n" }

// TestBadInput answers each bad input with its code, line and column, and
// nothing else: every other row of the upload is valid.
func TestBadInput(t *testing.T) {
	t.Parallel()
	// u2Dangling: the stay of the second person refers to a person who
	// is missing or in error.
	u2Unknown := at{"sejours.csv", 3, 2, "unknown_reference"}
	u2Invalid := at{"sejours.csv", 3, 2, "invalid_reference"}
	for _, tc := range []struct {
		name  string
		files upload
		want  []at
		// message, when set, is the first problem's exact message.
		message string
		// secret is a personal value no message may quote.
		secret string
	}{
		// The file.
		{name: "empty file", files: upload{"presences.csv": ""}, want: []at{{"presences.csv", 1, 0, "empty_file"}}},
		{name: "byte order mark only", files: upload{"presences.csv": "\uFEFF"}, want: []at{{"presences.csv", 1, 0, "empty_file"}}},
		{name: "blank lines only", files: upload{"presences.csv": "\r\n\n \n"}, want: []at{{"presences.csv", 1, 0, "empty_file"}}},
		{name: "UTF-16", files: upload{"presences.csv": "\xFF\xFEI\x00d\x00"}, want: []at{{"presences.csv", 1, 0, "unsupported_encoding"}}},
		{name: "a workbook, not a CSV", files: upload{"presences.xlsx": "PK\x03\x04\x14\x00\x06\x00", "presences.csv": absent},
			want: []at{{"presences.xlsx", 1, 0, "spreadsheet_file"}}},
		{name: "an old Excel workbook, not a CSV", files: upload{"presences.xls": "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "presences.csv": absent},
			want: []at{{"presences.xls", 1, 0, "spreadsheet_file"}}},
		{name: "unknown kind", files: upload{"donnees.csv": "a;b;c\n1;2;3\n"}, want: []at{{"donnees.csv", 1, 0, "unknown_kind"}}},
		{name: "stays file missing", files: upload{"sejours.csv": absent},
			want: []at{{"evenements.csv", 1, 2, "missing_file"}, {"presences.csv", 1, 2, "missing_file"}}},
		// Encoding.
		{name: "invalid in UTF-8 and in Windows-1252",
			files: upload{"usagers.csv": "Identifiant usager;Nom de naissance;Prenoms;Sexe;Date de naissance\nU1;Martin;Lea;F;1980\nU2;Dur\x81nd;Hugo;M;1975\n"},
			want:  []at{{"usagers.csv", 3, 2, "invalid_encoding"}, u2Invalid}},
		{name: "invalid UTF-8 after valid UTF-8", files: upload{"usagers.csv": persons2("U2;Dur\xE9and;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "invalid_encoding"}, u2Invalid}},
		{name: "NUL byte", files: upload{"usagers.csv": persons2("U2;Dur\x00and;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "invalid_encoding"}, u2Invalid}},
		{name: "control character in a reason", files: upload{"presences.csv": presHeader + presRow2 + "U1-PA-2;U1-SEJOUR-1;absence;Hospi\x01talisation;06/02/2024;06/02/2024;;non;non\n"},
			want: []at{{"presences.csv", 3, 4, "invalid_encoding"}}},
		// The header line.
		{name: "unknown header", files: upload{"presences.csv": strings.TrimSuffix(presHeader, "\n") + ";Commentaire\n" +
			strings.TrimSuffix(presRow2, "\n") + ";x\n"}, want: []at{{"presences.csv", 1, 10, "unknown_header"}}},
		{name: "duplicate header", files: upload{"usagers.csv": strings.TrimSuffix(personsHeader, "\n") + ";SEXE\n" +
			strings.TrimSuffix(personsRow2, "\n") + ";F\nU2;Durand;;Hugo;M;1975;;;;M\n"}, want: []at{{"usagers.csv", 1, 10, "duplicate_header"}}},
		{name: "missing required header", files: upload{"presences.csv": "Identifiant présence;Identifiant séjour;Début;Durée\nU1-PA-1;U1-SEJOUR-1;05/02/2024 08:30;7,5\n"},
			want: []at{{"presences.csv", 1, 0, "missing_header"}}},
		{name: "neither end nor duration column", files: upload{"presences.csv": "Identifiant présence;Identifiant séjour;Nature;Début\nU1-PA-1;U1-SEJOUR-1;P;05/02/2024 08:30\n"},
			want: []at{{"presences.csv", 1, 0, "missing_header"}}},
		{name: "empty header between two", files: upload{"evenements.csv": "Identifiant évènement;;Identifiant séjour;Statut;Début;Fin\nEV1;;U1-SEJOUR-1;réalisé;02/02/2024 10:00;02/02/2024 11:00\n"},
			want: []at{{"evenements.csv", 1, 2, "empty_header"}}},
		// Structure.
		{name: "truncated file: a quote left open", files: upload{"presences.csv": presencesCSV + "U1-PA-3;U1-SEJOUR-1;absence;\"Hospitalisation d"},
			want: []at{{"presences.csv", 4, 4, "unterminated_quote"}}},
		{name: "truncated file: a quote left open over lines", files: upload{"presences.csv": presencesCSV + "U1-PA-3;U1-SEJOUR-1;absence;\"Hospitalisation\nde jour;06/02"},
			want: []at{{"presences.csv", 4, 4, "unterminated_quote"}}},
		{name: "a line of 10,000 columns", files: upload{"presences.csv": presencesCSV + "U1-PA-3" + strings.Repeat(";x", 9999) + "\n"},
			want: []at{{"presences.csv", 4, 257, "too_many_columns"}}},
		{name: "a line of 70,000 bytes", files: upload{"presences.csv": presencesCSV + "U1-PA-3;U1-SEJOUR-1;absence;" + strings.Repeat("x", 70000) + ";06/02/2024;06/02/2024;;;\n"},
			want: []at{{"presences.csv", 4, 4, "record_too_long"}}},
		{name: "a quote inside a cell", files: upload{"usagers.csv": persons2("U2;Dur\"and;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "bare_quote"}, u2Unknown}},
		{name: "text after a closing quote", files: upload{"usagers.csv": persons2("U2;\"Durand\"x;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "invalid_quote"}, u2Unknown}},
		{name: "a cell missing", files: upload{"presences.csv": presHeader + presRow2 + "U1-PA-2;U1-SEJOUR-1;absence;Hospitalisation;06/02/2024;06/02/2024;;non\n"},
			want: []at{{"presences.csv", 3, 9, "wrong_field_count"}}},
		// Cells.
		{name: "impossible date", files: upload{"sejours.csv": stays2("U2-SEJOUR-1;U2;31/02/2024;;;;;")},
			want:    []at{{"sejours.csv", 3, 3, "invalid_date"}},
			message: "Ligne 3, colonne « Date d'entrée » : « 31/02/2024 » n'est pas une date valide."},
		{name: "date in another form", files: upload{"sejours.csv": stays2("U2-SEJOUR-1;U2;2024/01/15;;;;;")},
			want:    []at{{"sejours.csv", 3, 3, "invalid_date"}},
			message: "Ligne 3, colonne « Date d'entrée » : « 2024/01/15 » n'est pas une date au format jj/mm/aaaa."},
		{name: "impossible time", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 25:00;;7,5;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 5, "invalid_date_time"}}},
		{name: "impossible birth date, not quoted", files: upload{"usagers.csv": persons2("U2;Durand;;Hugo;M;31/02/1975;;;")},
			want: []at{{"usagers.csv", 3, 6, "invalid_date"}, u2Invalid}, secret: "31/02/1975"},
		{name: "unknown sex", files: upload{"usagers.csv": persons2("U2;Durand;;Hugo;X;1975;;;")},
			want: []at{{"usagers.csv", 3, 5, "invalid_value"}, u2Invalid}},
		{name: "a required cell empty", files: upload{"usagers.csv": persons2("U2;;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "required"}, u2Invalid}},
		{name: "name too long", files: upload{"usagers.csv": persons2("U2;" + strings.Repeat("a", 101) + ";;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "too_long"}, u2Invalid}},
		{name: "INS with a wrong key", files: upload{"usagers.csv": persons2("U2;Durand;;Hugo;M;1975;75056;99100;1 84 12 75 056 123 45")},
			want: []at{{"usagers.csv", 3, 9, "invalid_key"}, u2Invalid}, secret: "184127505612345"},
		{name: "malformed COG code", files: upload{"usagers.csv": persons2("U2;Durand;;Hugo;M;1975;7505;;")},
			want: []at{{"usagers.csv", 3, 7, "invalid_format"}, u2Invalid}},
		{name: "formula injection in a name", files: upload{"usagers.csv": persons2("U2;=cmd|' /C calc'!A0;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 2, "formula_injection"}, u2Invalid}, secret: "cmd"},
		{name: "formula injection in a reason", files: upload{"presences.csv": presHeader + presRow2 + "U1-PA-2;U1-SEJOUR-1;absence;@SUM(1+1);06/02/2024;06/02/2024;;non;non\n"},
			want: []at{{"presences.csv", 3, 4, "formula_injection"}}},
		{name: "formula injection behind a tab", files: upload{"presences.csv": presHeader + presRow2 + "U1-PA-2;U1-SEJOUR-1;absence;\"\t=1+1\";06/02/2024;06/02/2024;;non;non\n"},
			want: []at{{"presences.csv", 3, 4, "formula_injection"}}},
		{name: "formula injection in a date", files: upload{"sejours.csv": stays2("U2-SEJOUR-1;U2;+15/01/2024;;;;;")},
			want: []at{{"sejours.csv", 3, 3, "formula_injection"}}},
		{name: "duration not a number", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;sept;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 7, "invalid_number"}}},
		{name: "duration of zero", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;0;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 7, "out_of_range"}}},
		{name: "duration and end disagree", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;05/02/2024 12:00;7,5;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 7, "inconsistent_duration"}}},
		{name: "neither end nor duration", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 6, "required"}}},
		{name: "no duration in a file without Fin", files: upload{"presences.csv": "Identifiant présence;Identifiant séjour;Nature;Début;Durée\nU1-PA-1;U1-SEJOUR-1;P;05/02/2024 08:30;\n"},
			want: []at{{"presences.csv", 2, 5, "required"}}},
		{name: "end before start", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;05/02/2024 08:00;;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 6, "before_start"}}},
		{name: "unknown status", files: upload{"evenements.csv": eventsHeader + "EV1;U1-SEJOUR-1;fini;02/02/2024 10:00;02/02/2024 11:00;Soins\n"},
			want: []at{{"evenements.csv", 2, 3, "invalid_value"}}},
		{name: "unknown nature", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;peut-être;;05/02/2024 08:30;;7,5;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 3, "invalid_value"}}},
		{name: "neither yes nor no", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;7,5;;bof\n" + presRow3},
			want: []at{{"presences.csv", 2, 9, "invalid_value"}}},
		// Identifiers.
		{name: "bad FINESS key in an identifier", files: upload{"usagers.csv": persons2("3750000011/U2;Durand;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 1, "invalid_key"}, u2Unknown}},
		{name: "identifier of another establishment", files: upload{"usagers.csv": persons2("3130000003/U2;Durand;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 1, "finess_mismatch"}, u2Unknown}},
		{name: "malformed identifier", files: upload{"usagers.csv": persons2("U_2;Durand;;Hugo;M;1975;;;")},
			want: []at{{"usagers.csv", 3, 1, "invalid_format"}, u2Unknown}},
		{name: "malformed stay identifier", files: upload{"sejours.csv": stays2("U2-SÉJOUR-1;U2;15/01/2024;;;;;")},
			want: []at{{"sejours.csv", 3, 1, "invalid_format"}}},
		{name: "stay of another person", files: upload{"sejours.csv": stays2("U2-SEJOUR-1;U1;15/01/2024;;;;;")},
			want: []at{{"sejours.csv", 3, 2, "person_mismatch"}}},
		{name: "presence of another person than its stay", files: upload{"presences.csv": presHeader + "U2-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;7,5;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 1, "person_mismatch"}}},
		// Across rows.
		{name: "stay outside the period", files: upload{"sejours.csv": stays2("U2-SEJOUR-1;U2;15/01/2025;;;;;")},
			want:    []at{{"sejours.csv", 3, 3, "outside_period"}},
			message: "Ligne 3, colonne « Date d'entrée » : « 15/01/2025 » est après la fin de la période du rapport (31/12/2024) : ce séjour ne la concerne pas."},
		{name: "stay ended before the period", files: upload{"sejours.csv": stays2("U2-SEJOUR-1;U2;15/01/2023;31/12/2023;;;;")},
			want: []at{{"sejours.csv", 3, 4, "outside_period"}}},
		{name: "presence outside the period", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2025 08:30;;7,5;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 5, "outside_period"}}},
		{name: "absence without reason", files: upload{"presences.csv": presHeader + presRow2 + "U1-PA-2;U1-SEJOUR-1;absence;;06/02/2024;06/02/2024;;non;non\n"},
			want:    []at{{"presences.csv", 3, 4, "required"}},
			message: "Ligne 3, colonne « Motif d'absence » : le motif est obligatoire pour une absence."},
		{name: "duplicate person", files: upload{"usagers.csv": personsCSV + "U1;Autre;;Ann;F;1990;;;\n"},
			want: []at{{"usagers.csv", 4, 1, "duplicate"}}},
		{name: "duplicate person, short and full forms", files: upload{"usagers.csv": personsCSV + "3750000010/U2;Autre;;Ann;F;1990;;;\n"},
			want: []at{{"usagers.csv", 4, 1, "duplicate"}}},
		{name: "duplicate event", files: upload{"evenements.csv": eventsCSV + "EV1;U1-SEJOUR-1;prévu;03/02/2024 10:00;03/02/2024 11:00;\n"},
			want: []at{{"evenements.csv", 3, 1, "duplicate"}}},
		{name: "duplicate presence", files: upload{"presences.csv": presencesCSV + "U1-PA-2;U1-SEJOUR-1;présence;;07/02/2024 08:30;;7,5;;oui\n"},
			want: []at{{"presences.csv", 4, 1, "duplicate"}}},
		{name: "stay of an unknown person", files: upload{"sejours.csv": staysCSV + "U3-SEJOUR-1;U3;01/01/2024;;;;;\n"},
			want: []at{{"sejours.csv", 4, 2, "unknown_reference"}}},
		{name: "presence of an unknown stay", files: upload{"presences.csv": presHeader + "U1-PA-1;U1-SEJOUR-9;présence;;05/02/2024 08:30;;7,5;;oui\n" + presRow3},
			want: []at{{"presences.csv", 2, 2, "unknown_reference"}}},
		{name: "rows referring to a stay in error", files: upload{"sejours.csv": staysHeader + "U1-SEJOUR-1;U1;xx;;;;;\nU2-SEJOUR-1;U2;15/01/2024;30/06/2024;;;;\n"},
			want: []at{{"sejours.csv", 2, 3, "invalid_date"}, {"evenements.csv", 2, 2, "invalid_reference"},
				{"presences.csv", 2, 2, "invalid_reference"}, {"presences.csv", 3, 2, "invalid_reference"}}},
		// Line numbers.
		{name: "lines after a cell holding new lines", files: upload{"presences.csv": presHeader + presRow2 +
			"U1-PA-2;U1-SEJOUR-1;absence;\"Hospitalisation;\nsuite\";06/02/2024;06/02/2024;;non;non\n" +
			"U1-PA-3;U1-SEJOUR-1;présence;;07/02/2024 8h30;07/02/2024 8h;;;oui\n"},
			want: []at{{"presences.csv", 5, 6, "before_start"}}},
		{name: "a cell after a new line in its record", files: upload{"presences.csv": presHeader + presRow2 +
			"U1-PA-2;U1-SEJOUR-1;absence;\"Hospi\ntalisation\";32/02/2024;06/02/2024;;non;non\n"},
			want: []at{{"presences.csv", 4, 5, "invalid_date_time"}}},
		{name: "a sep= first line", files: upload{"presences.csv": "sep=;\n" + presHeader + "U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;7,5;;non sûr\n" + presRow3},
			want: []at{{"presences.csv", 3, 9, "invalid_value"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, _ := read(t, options(), validUpload(tc.files))
			var got []at
			for _, p := range res.Problems {
				got = append(got, at{p.File, p.Line, p.Column, p.Code})
				checkMessage(t, p)
				if tc.secret != "" && strings.Contains(strings.ReplaceAll(p.Message, " ", ""), tc.secret) {
					t.Errorf("the message quotes a personal value: %s", p.Message)
				}
			}
			sortAt(got)
			want := append([]at(nil), tc.want...)
			sortAt(want)
			if !slices.Equal(got, want) {
				t.Errorf("problems:\n got %v\nwant %v\nmessages: %v", got, want, messages(res))
			}
			if tc.message != "" && (len(res.Problems) == 0 || res.Problems[0].Message != tc.message) {
				t.Errorf("message:\n got %v\nwant %q", messages(res), tc.message)
			}
			if res.Valid() || res.Total != len(res.Problems) {
				t.Errorf("Valid() = %t, Total = %d for %d problems listed", res.Valid(), res.Total, len(res.Problems))
			}
		})
	}
}

func sortAt(a []at) {
	slices.SortFunc(a, func(x, y at) int { return strings.Compare(x.String(), y.String()) })
}

func messages(res *activitycsv.Result) []string {
	var m []string
	for _, p := range res.Problems {
		m = append(m, p.Error())
	}
	return m
}

// checkMessage checks the form every message has: it starts with its line
// (and column header), and ends a sentence.
func checkMessage(t *testing.T, p activitycsv.Problem) {
	t.Helper()
	prefix := fmt.Sprintf("Ligne %d", p.Line)
	if p.Header != "" && p.Column > 0 {
		prefix += ", colonne « " + p.Header + " » : "
	}
	if p.Line > 0 && !strings.HasPrefix(p.Message, prefix) {
		t.Errorf("message %q does not start with %q", p.Message, prefix)
	}
	if !strings.HasSuffix(p.Message, ".") {
		t.Errorf("message %q is not a sentence", p.Message)
	}
}
