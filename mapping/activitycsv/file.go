package activitycsv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// sniffBytes is how much of a file is looked at for its separator: the
// header line must end within it.
const sniffBytes = 64 << 10

// fileReader reads one CSV file.
type fileReader struct {
	v   *Validator
	res FileResult
	sch *schema

	dec *decoder
	g   *guard
	cr  *csv.Reader
	// lineOffset is 1 when a "sep=;" line, which encoding/csv does not
	// see, precedes the headers.
	lineOffset int

	header []string
	// cols maps a schema column to its index in the file, -1 when absent.
	cols []int
	// refs says whether the kind of file this one refers to was read.
	refs bool

	// The current row.
	rec     []string
	line    int    // where the record starts
	rowBad  bool   // a problem was found in the row
	badCols uint64 // schema columns with a problem
}

// open sets up the decoding and the CSV reader and reads the header line.
// It returns false when the file cannot be read further; the problem is
// recorded.
func (f *fileReader) open(r io.Reader) (bool, error) {
	f.dec = newDecoder(r)
	br := bufio.NewReaderSize(f.dec, sniffBytes)
	head, err := br.Peek(sniffBytes)
	f.res.Encoding = f.dec.encoding
	switch {
	case errors.Is(err, errUTF16):
		f.v.fileProblem(f.res.Name, 1, codeUnsupportedEncoding,
			"le fichier est enregistré en UTF-16 (« texte Unicode »). Enregistrez-le au format « CSV UTF-8 (délimité par des points-virgules) », puis recommencez.")
		return false, nil
	case err != nil && !errors.Is(err, io.EOF):
		return false, fmt.Errorf("reading %s: %w", f.res.Name, err)
	case len(bytes.TrimSpace(head)) == 0:
		f.v.fileProblem(f.res.Name, 1, codeEmptyFile,
			"le fichier est vide. Il doit commencer par la ligne des en-têtes de colonnes (voir le modèle : relais report template).")
		return false, nil
	case isWorkbook(f.dec.magic):
		f.v.fileProblem(f.res.Name, 1, codeSpreadsheet,
			"ce fichier est un classeur de tableur, pas un fichier CSV. Enregistrez chaque feuille au format « CSV UTF-8 (délimité par des points-virgules) », puis recommencez.")
		return false, nil
	}
	sep, sepLine := sniffSeparator(head)
	if sepLine > 0 {
		_, _ = br.Discard(sepLine)
		f.lineOffset = 1
	}
	f.res.Separator = separatorName(sep)
	lim := f.v.opts.Limits
	f.g = newGuard(br, sep, lim.MaxColumns, lim.MaxRecordBytes)
	f.cr = csv.NewReader(f.g)
	f.cr.Comma = rune(sep)
	f.cr.ReuseRecord = true
	header, err := f.cr.Read()
	if errors.Is(err, io.EOF) {
		f.v.fileProblem(f.res.Name, 1, codeEmptyFile,
			"le fichier est vide. Il doit commencer par la ligne des en-têtes de colonnes (voir le modèle : relais report template).")
		return false, nil
	}
	if err != nil {
		return false, f.readError(err, nil)
	}
	f.header = append([]string(nil), header...)
	for i, h := range f.header {
		f.header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
	}
	return true, nil
}

// isWorkbook spots an Excel or OpenDocument file sent as a CSV: a zip
// (xlsx, ods) or an OLE compound file (xls).
func isWorkbook(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0})
}

// sniffSeparator finds the separator on the header line: the one of ";",
// "," and tab it holds most often outside quotes, ";" on a tie or when it
// holds none. An Excel "sep=;" first line names it; sepLine is then that
// line's length, to skip.
func sniffSeparator(head []byte) (sep byte, sepLine int) {
	if len(head) >= 5 && bytes.EqualFold(head[:4], []byte("sep=")) {
		end := bytes.IndexByte(head, '\n')
		if end < 0 {
			end = len(head) - 1
		}
		if c := head[4]; c == ';' || c == ',' || c == '\t' || c == '|' {
			return c, end + 1
		}
	}
	counts := map[byte]int{}
	inQuotes := false
	for _, b := range head {
		switch {
		case b == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case b == '\n':
			return pickSeparator(counts), 0
		case b == ';' || b == ',' || b == '\t':
			counts[b]++
		}
	}
	return pickSeparator(counts), 0
}

func pickSeparator(counts map[byte]int) byte {
	sep := byte(';')
	for _, c := range []byte{',', '\t'} {
		if counts[c] > counts[sep] {
			sep = c
		}
	}
	return sep
}

func separatorName(sep byte) string {
	if sep == '\t' {
		return "tab"
	}
	return string(sep)
}

// readError turns an error from encoding/csv into a problem, or returns it
// when it is not about the file's content (a failing reader).
func (f *fileReader) readError(err error, rec []string) error {
	var se *structureError
	var pe *csv.ParseError
	switch {
	case errors.As(err, &se):
		f.structureProblem(se)
		return nil
	case errors.As(err, &pe):
		f.parseProblem(pe, rec)
		return nil
	}
	return fmt.Errorf("reading %s: %w", f.res.Name, err)
}

func (f *fileReader) structureProblem(se *structureError) {
	lim := f.v.opts.Limits
	var msg string
	switch se.code {
	case codeTooManyColumns:
		msg = fmt.Sprintf("la ligne compte plus de %d colonnes : ce n'est pas un export valide. La lecture du fichier s'arrête ici.", lim.MaxColumns)
	case codeUnterminatedQuote:
		msg = "un guillemet ouvert au début de cette case n'est jamais refermé : le fichier est peut-être tronqué. Vérifiez la case, ou exportez le fichier à nouveau. La lecture du fichier s'arrête ici."
	default:
		msg = fmt.Sprintf("la ligne dépasse %d octets : ce n'est pas un export valide. La lecture du fichier s'arrête ici.", lim.MaxRecordBytes)
	}
	f.cellProblemAt(se.line+f.lineOffset, se.column, se.code, msg)
}

func (f *fileReader) parseProblem(pe *csv.ParseError, rec []string) {
	line := pe.Line + f.lineOffset
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		n, want := len(rec), len(f.header)
		col := min(n, want) + 1
		if n > 0 && col-1 < n {
			l, _ := f.cr.FieldPos(col - 1)
			line = l + f.lineOffset
		} else if n > 0 {
			l, _ := f.cr.FieldPos(n - 1)
			line = l + f.lineOffset
		}
		f.cellProblemAt(line, col, codeFieldCount, fmt.Sprintf(
			"la ligne compte %d colonnes, la ligne des en-têtes %d. Vérifiez les séparateurs (« %s ») et les guillemets de la ligne.",
			n, want, f.res.Separator))
	case errors.Is(pe.Err, csv.ErrBareQuote), errors.Is(pe.Err, csv.ErrQuote):
		if field, ok := f.g.quoteErrorField(pe.Line); ok {
			code, msg := codeBareQuote, "un guillemet (\") est au milieu de la case. Mettez toute la case entre guillemets et doublez ceux qu'elle contient (\"\"), ou retirez-le."
			if errors.Is(pe.Err, csv.ErrQuote) {
				code, msg = codeInvalidQuote, "du texte suit le guillemet qui ferme la case. Doublez les guillemets à l'intérieur de la case (\"\"), ou retirez-les."
			}
			f.cellProblemAt(line, field+1, code, msg)
			return
		}
		if qLine, field, ok := f.g.openQuote(); ok {
			f.structureProblem(&structureError{code: codeUnterminatedQuote, line: qLine, column: field + 1})
			return
		}
		f.cellProblemAt(line, 0, codeInvalidQuote, "les guillemets de la ligne sont mal placés.")
	default:
		f.cellProblemAt(line, 0, codeInvalidQuote, "la ligne ne peut pas être lue.")
	}
}

// cellProblemAt records a problem at a line and a 1-based file column (0:
// the whole line), named by the file's header when it has one.
func (f *fileReader) cellProblemAt(line, col int, code, msg string) {
	header := ""
	if col > 0 && col <= len(f.header) && f.sch != nil {
		header = f.header[col-1]
	}
	f.v.add(Problem{File: f.res.Name, Line: max(line, 1), Column: col, Header: header, Code: code, Message: place(max(line, 1), header) + msg})
}

// read reads the whole file.
func (f *fileReader) read(ctx context.Context, r io.Reader) error {
	ok, err := f.open(r)
	defer func() { f.res.Encoding = f.dec.encoding }()
	if !ok || err != nil {
		return err
	}
	if !f.bindHeader() {
		return nil
	}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("reading %s: %w", f.res.Name, err)
			}
		}
		rec, err := f.cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var se *structureError
			stop := errors.As(err, &se)
			if !stop && len(rec) > 0 && !blank(rec) {
				f.res.Rows++
			}
			if err := f.readError(err, rec); err != nil || stop {
				return err
			}
			continue
		}
		if blank(rec) {
			continue
		}
		f.res.Rows++
		if err := f.row(rec); err != nil {
			return err
		}
	}
}

// blank reports a row of empty cells, as spreadsheets export trailing rows.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// bindHeader tells the kind from the header line and maps the columns. It
// returns false when rows cannot be read: unknown kind, a required column
// missing.
func (f *fileReader) bindHeader() bool {
	f.res.Kind = kindFromHeaders(f.header, f.res.Name)
	if f.res.Kind == KindUnknown {
		f.v.fileProblem(f.res.Name, 1+f.lineOffset, codeUnknownKind,
			"impossible de savoir ce que contient ce fichier (usagers, séjours, évènements ou présences et absences) d'après ses en-têtes ni son nom. Reprenez les en-têtes du modèle (relais report template).")
		return false
	}
	f.v.present[f.res.Kind] = true
	f.sch = schemaOf(f.res.Kind)
	f.cols = make([]int, len(f.sch.columns))
	for i := range f.cols {
		f.cols[i] = -1
	}
	known := 0
	for _, h := range f.header {
		if _, ok := f.sch.byHeader[normalizeHeader(h)]; ok {
			known++
		}
	}
	line := 1 + f.lineOffset
	// Empty headers at the end of the line are an export's trailing
	// separators: ignored, like the cells under them.
	last := len(f.header)
	for last > 0 && f.header[last-1] == "" {
		last--
	}
	for i, h := range f.header[:last] {
		if h == "" {
			f.cellProblemAt(line, i+1, codeEmptyHeader, "la colonne n'a pas d'en-tête. Donnez-lui l'un des en-têtes du modèle, ou supprimez-la.")
			continue
		}
		c, ok := f.sch.byHeader[normalizeHeader(h)]
		switch {
		case !ok && known == 0:
			// No header is known: this line is likely data, not headers;
			// its cells are not shown (missing_header problems follow).
		case !ok:
			f.cellProblemAt(line, i+1, codeUnknownHeader, fmt.Sprintf(
				"cet en-tête n'est pas reconnu dans un fichier des %s. Renommez la colonne comme dans le modèle (relais report template), ou supprimez-la.",
				f.res.Kind.label()))
		case f.cols[c] >= 0:
			f.cellProblemAt(line, i+1, codeDuplicateHeader, fmt.Sprintf(
				"cette colonne figure déjà en colonne %d. Supprimez l'une des deux.", f.cols[c]+1))
		default:
			f.cols[c] = i
		}
	}
	complete := true
	for c, col := range f.sch.columns {
		if col.required && f.cols[c] < 0 {
			complete = false
			f.v.add(Problem{File: f.res.Name, Line: line, Header: col.header, Code: codeMissingHeader,
				Message: place(line, "") + fmt.Sprintf("la colonne obligatoire « %s » manque. Ajoutez-la (voir le modèle : relais report template).", col.header)})
		}
	}
	if f.res.Kind == KindPresences && f.cols[aEnd] < 0 && f.cols[aDuration] < 0 {
		complete = false
		f.v.add(Problem{File: f.res.Name, Line: line, Header: f.sch.columns[aEnd].header, Code: codeMissingHeader,
			Message: place(line, "") + "il faut une colonne « Fin » ou une colonne « Durée (heures) ». Ajoutez l'une des deux."})
	}
	if !complete {
		return false
	}
	f.v.read[f.res.Kind] = true
	f.refs = true
	var ref Kind
	switch f.res.Kind {
	case KindStays:
		ref = KindPersons
	case KindEvents, KindPresences:
		ref = KindStays
	}
	if ref != KindUnknown && !f.v.read[ref] {
		f.refs = false
		refCol := sPerson // the reference column: sPerson, eStay and aStay are all 1
		if f.cols[refCol] < 0 {
			refCol = sID
		}
		msg := fmt.Sprintf("les lignes de ce fichier renvoient au fichier des %s, qui manque. Joignez-le à l'envoi.", ref.label())
		if f.v.present[ref] {
			msg = fmt.Sprintf("les lignes de ce fichier renvoient au fichier des %s, dont les lignes n'ont pas pu être lues : corrigez d'abord ses en-têtes.", ref.label())
		}
		f.cellProblemAt(line, f.cols[refCol]+1, codeMissingFile, msg)
	}
	return true
}

// cellOK checks the characters of a cell: valid UTF-8 (or Windows-1252
// decoded), no U+FFFD (a byte invalid in both encodings), no control
// character but tab and new lines.
func cellOK(s string) bool {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || (r >= 0x80 && r < 0xA0) {
			return false
		}
		i += size
	}
	return true
}

// formulaStart reports a cell a spreadsheet would run as a formula.
func formulaStart(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}
