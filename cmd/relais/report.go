package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The ESMS staff who run `relais report validate` are often on Windows,
	// which has no time zone database: dates are read in Europe/Paris.
	_ "time/tzdata"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

const reportUsage = "usage: relais report validate --finess FINESS (--year AAAA | --from JJ/MM/AAAA --to JJ/MM/AAAA) [--siret SIRET] [--max-errors N] [--json] FICHIER... | " +
	"relais report template [--dir DOSSIER] | relais report generate --rows N [--dir DOSSIER] [--finess FINESS] [--year AAAA] [--events N]"

// runReport is for the establishments' staff: check activity report files
// offline, with the messages the API gives, and write the templates.
func runReport(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New(reportUsage)
	}
	switch args[0] {
	case "validate":
		return reportValidate(ctx, args[1:], e)
	case "template":
		return reportTemplate(args[1:], e)
	case "generate":
		return reportGenerate(args[1:], e)
	}
	return fmt.Errorf("unknown report command %q; %s", args[0], reportUsage)
}

// reportValidate reads the files as the report API does and prints every
// problem in French. It fails (exit code 1) when there is one.
func reportValidate(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("report validate", e)
	finess := fs.String("finess", "", "le numéro FINESS de l'établissement déclarant (9 chiffres)")
	siret := fs.String("siret", "", "son numéro SIRET (14 chiffres), s'il en a un")
	year := fs.Int("year", 0, "l'année du rapport (du 1er janvier au 31 décembre)")
	from := fs.String("from", "", "le premier jour de la période (JJ/MM/AAAA), avec --to")
	to := fs.String("to", "", "le dernier jour de la période (JJ/MM/AAAA), avec --from")
	maxErrors := fs.Int("max-errors", activitycsv.DefaultMaxProblems, "le nombre d'erreurs listées au plus")
	asJSON := fs.Bool("json", false, "écrire le résultat en JSON")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	period, err := reportPeriod(*year, *from, *to)
	if err != nil {
		return err
	}
	switch {
	case *finess == "":
		return errors.New("--finess est obligatoire : le numéro FINESS de l'établissement déclarant (9 chiffres)")
	case !mapping.ValidFINESS(*finess):
		return errors.New("--finess : ce n'est pas un numéro FINESS valide (9 chiffres, dont une clé)")
	case *siret != "" && !mapping.ValidSIRET(*siret):
		return errors.New("--siret : ce n'est pas un numéro SIRET valide (14 chiffres, dont une clé)")
	case *maxErrors < 1:
		return errors.New("--max-errors doit valoir au moins 1")
	case len(files) == 0:
		return errors.New("indiquez les fichiers à vérifier (CSV ou zip); " + reportUsage)
	}
	var inputs []activitycsv.Input
	for _, name := range files {
		f, err := os.Open(name) //nolint:gosec // the user names the files to check
		if err != nil {
			return fmt.Errorf("ouverture de %s : %w", name, err)
		}
		defer func() { _ = f.Close() }() // read-only
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("lecture de %s : %w", name, err)
		}
		if st.IsDir() {
			return fmt.Errorf("%s est un dossier : indiquez les fichiers qu'il contient", name)
		}
		inputs = append(inputs, activitycsv.Input{Name: name, R: f, Size: st.Size()})
	}
	opts := activitycsv.Options{FINESS: *finess, SIRET: *siret, Period: period, Limits: activitycsv.Limits{MaxProblems: *maxErrors}}
	counts := map[activitycsv.Kind]int{}
	start := time.Now()
	res, err := activitycsv.Read(ctx, opts, func(r activitycsv.Row) error {
		counts[r.Kind]++
		return nil
	}, inputs...)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if *asJSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the result: %w", err)
		}
		if _, err := e.stdout.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("writing the result: %w", err)
		}
	} else if err := writeReportResult(e.stdout, res, period); err != nil {
		return err
	}
	rows := 0
	for _, f := range res.Files {
		rows += f.Rows
	}
	fmt.Fprintf(e.stderr, "%d lignes lues en %s (%.0f lignes par seconde)\n", rows, elapsed.Round(time.Millisecond), float64(rows)/elapsed.Seconds())
	if !res.Valid() {
		return fmt.Errorf("le rapport n'est pas valide : %s", plural(res.Total, "erreur", "erreurs"))
	}
	return nil
}

// reportPeriod reads --year, or --from and --to.
func reportPeriod(year int, from, to string) (mapping.Period, error) {
	switch {
	case year != 0 && (from != "" || to != ""):
		return mapping.Period{}, errors.New("indiquez --year ou bien --from et --to, pas les deux")
	case year != 0:
		if year < 1900 || year > 2199 {
			return mapping.Period{}, errors.New("--year : l'année doit s'écrire sur 4 chiffres")
		}
		return mapping.Period{Start: mapping.Date(fmt.Sprintf("%04d-01-01", year)), End: mapping.Date(fmt.Sprintf("%04d-12-31", year))}, nil
	case from == "" || to == "":
		return mapping.Period{}, errors.New("indiquez la période du rapport : --year AAAA, ou --from JJ/MM/AAAA et --to JJ/MM/AAAA")
	}
	start, ok := activitycsv.ParseDate(from)
	if !ok {
		return mapping.Period{}, errors.New("--from : la date doit s'écrire JJ/MM/AAAA")
	}
	end, ok := activitycsv.ParseDate(to)
	if !ok {
		return mapping.Period{}, errors.New("--to : la date doit s'écrire JJ/MM/AAAA")
	}
	if end < start {
		return mapping.Period{}, errors.New("--to : la fin de la période précède son début")
	}
	return mapping.Period{Start: start, End: end}, nil
}

// writeReportResult prints the files read, the problems and a summary, in
// French.
func writeReportResult(w io.Writer, res *activitycsv.Result, period mapping.Period) error {
	var b strings.Builder
	for _, f := range res.Files {
		if f.Kind == activitycsv.KindUnknown {
			fmt.Fprintf(&b, "%s : non lu\n", f.Name)
			continue
		}
		fmt.Fprintf(&b, "%s : fichier des %s, %s, séparateur « %s », %s dont %s\n", f.Name, kindLabel(f.Kind),
			encodingLabel(f.Encoding), separatorLabel(f.Separator), plural(f.Rows, "ligne", "lignes"), plural(f.ValidRows, "valide", "valides"))
	}
	if len(res.Problems) > 0 {
		b.WriteString("\n")
	}
	for _, p := range res.Problems {
		b.WriteString(p.Error() + "\n")
	}
	b.WriteString("\n")
	if res.Valid() {
		fmt.Fprintf(&b, "Le rapport du %s au %s est valide.\n", frDate(period.Start), frDate(period.End))
	} else {
		fmt.Fprintf(&b, "Le rapport n'est pas valide : %s. Corrigez les fichiers, puis vérifiez-les à nouveau.\n", plural(res.Total, "erreur", "erreurs"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n < 2 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func kindLabel(k activitycsv.Kind) string {
	switch k {
	case activitycsv.KindPersons:
		return "usagers"
	case activitycsv.KindStays:
		return "séjours"
	case activitycsv.KindEvents:
		return "évènements"
	default:
		return "présences et absences"
	}
}

func encodingLabel(enc activitycsv.Encoding) string {
	switch enc {
	case activitycsv.EncodingUTF8BOM:
		return "UTF-8 avec BOM"
	case activitycsv.EncodingWindows1252:
		return "Windows-1252"
	case activitycsv.EncodingUTF16:
		return "UTF-16"
	case activitycsv.EncodingASCII:
		return "ASCII"
	default:
		return "UTF-8"
	}
}

func separatorLabel(sep string) string {
	if sep == "tab" {
		return "tabulation"
	}
	return sep
}

func frDate(d mapping.Date) string {
	s := string(d)
	if len(s) != 10 {
		return s
	}
	return s[8:10] + "/" + s[5:7] + "/" + s[:4]
}

// reportTemplate writes the four empty templates. It never overwrites a
// file.
func reportTemplate(args []string, e env) error {
	fs := newFlagSet("report template", e)
	dir := fs.String("dir", ".", "le dossier où écrire les modèles")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, k := range activitycsv.Kinds() {
		p := filepath.Join(*dir, k.TemplateName())
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644) //nolint:gosec // a template, meant to be shared
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s existe déjà : choisissez un autre dossier (--dir) ou déplacez-le", p)
		}
		if err != nil {
			return fmt.Errorf("création de %s : %w", p, err)
		}
		err = activitycsv.WriteTemplate(f, k)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("écriture de %s : %w", p, err)
		}
		fmt.Fprintf(e.stdout, "modèle écrit : %s\n", p)
	}
	return nil
}

// reportGenerate writes a synthetic upload, for load tests: persons,
// stays, N presences and, when asked, events.
func reportGenerate(args []string, e env) error {
	fs := newFlagSet("report generate", e)
	rows := fs.Int("rows", 0, "the number of presence rows (required)")
	dir := fs.String("dir", ".", "the folder to write the files into")
	finess := fs.String("finess", "750000010", "the establishment's FINESS number")
	year := fs.Int("year", time.Now().Year()-1, "the report's year")
	events := fs.Int("events", 0, "the number of event rows")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *rows < 1:
		return errors.New("--rows: must be at least 1")
	case !mapping.ValidFINESS(*finess):
		return errors.New("--finess: must be 9 digits with a valid key")
	case *year < 1901 || *year > 2199:
		return errors.New("--year: must be a 4-digit year")
	}
	paths, err := activitycsv.WriteSample(*dir, activitycsv.Sample{FINESS: *finess, Year: *year, Presences: *rows, Events: *events})
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(e.stdout, p)
	}
	fmt.Fprintf(e.stdout, "check them: relais report validate --finess %s --year %d %s\n", *finess, *year, strings.Join(paths, " "))
	return nil
}
