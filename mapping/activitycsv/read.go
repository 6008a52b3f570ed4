package activitycsv

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// Input is one file of an upload: a CSV file, or a zip of CSV files. It is
// read through R, from 0 to Size, more than once (a first look at its
// header line tells its kind): an *os.File, a *bytes.Reader, a spooled
// upload.
type Input struct {
	Name string
	R    io.ReaderAt
	Size int64
}

// source is one CSV file to read: an input or a zip's file.
type source struct {
	name string
	open func() (io.ReadCloser, error)
	kind Kind
}

// Read reads an upload: CSV files and zips of CSV files, in any order. It
// looks at each file's header line to tell its kind, then reads the files
// in the order of Kinds, so that every reference is checked. The problems
// are in the Result; the error is only for a failing reader, a failing
// handler or ctx.
func Read(ctx context.Context, opts Options, h Handler, inputs ...Input) (*Result, error) {
	v, err := NewValidator(opts, h)
	if err != nil {
		return nil, err
	}
	var sources []source
	for _, in := range inputs {
		if isZip(in) {
			sources = append(sources, v.zipSources(in)...)
			continue
		}
		sources = append(sources, source{name: in.Name, open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(in.R, 0, in.Size)), nil
		}})
	}
	for i := range sources {
		if sources[i].kind, err = sniffKind(sources[i]); err != nil {
			return nil, err
		}
	}
	// Unknown kinds go last: reading them only reports their problems.
	order := func(k Kind) int {
		if k == KindUnknown {
			return int(KindPresences) + 1
		}
		return int(k)
	}
	slices.SortStableFunc(sources, func(a, b source) int { return order(a.kind) - order(b.kind) })
	for _, s := range sources {
		err := v.readSource(ctx, s)
		var ze *zipError
		switch {
		case errors.As(err, &ze):
			v.add(Problem{File: s.name, Code: codeZipInvalid,
				Message: "Archive « " + displayText(s.name, 80) + " » : ce fichier de l'archive est illisible (archive abîmée, ou compressée d'une manière que nous ne lisons pas). Refaites l'archive, puis recommencez."})
			if n := len(v.files); n > 0 && v.files[n-1].Name == s.name {
				v.files[n-1].Problems++
			} else {
				v.files = append(v.files, FileResult{Name: s.name, Problems: 1})
			}
		case err != nil:
			return nil, err
		}
	}
	return v.Result(), nil
}

func (v *Validator) readSource(ctx context.Context, s source) error {
	rc, err := s.open()
	if err != nil {
		return fmt.Errorf("opening %s: %w", s.name, err)
	}
	defer func() { _ = rc.Close() }() // read-only: nothing to flush
	return v.ReadCSV(ctx, s.name, rc)
}

// sniffKind tells a file's kind from its header line, as ReadCSV will;
// KindUnknown when it cannot (ReadCSV then reports why).
func sniffKind(s source) (Kind, error) {
	rc, err := s.open()
	var ze *zipError
	switch {
	case errors.As(err, &ze):
		return KindUnknown, nil // reported when the file is read
	case err != nil:
		return KindUnknown, fmt.Errorf("opening %s: %w", s.name, err)
	}
	defer func() { _ = rc.Close() }()
	br := bufio.NewReaderSize(newDecoder(rc), sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		return KindUnknown, nil //nolint:nilerr // ReadCSV reports an unreadable file
	}
	sep, skip := sniffSeparator(head)
	head = bytes.TrimLeft(head[skip:], "\r\n") // encoding/csv skips blank lines
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i+1]
	}
	cr := csv.NewReader(bytes.NewReader(head))
	cr.Comma = rune(sep)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return kindFromName(s.name), nil //nolint:nilerr // ReadCSV reports a header it cannot read
	}
	return kindFromHeaders(header, s.name), nil
}

// isZip tells a zip by its name or its first bytes.
func isZip(in Input) bool {
	if strings.EqualFold(path.Ext(in.Name), ".zip") {
		return true
	}
	var magic [4]byte
	n, _ := in.R.ReadAt(magic[:], 0)
	return n == 4 && (string(magic[:]) == "PK\x03\x04" || string(magic[:]) == "PK\x05\x06") &&
		!isWorkbookName(in.Name)
}

func isWorkbookName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".xlsx", ".xlsm", ".xls", ".ods":
		return true
	}
	return false
}

// zipSources lists a zip's CSV files, within the limits. A zip that breaks
// a limit is refused whole: nothing in it is read.
func (v *Validator) zipSources(in Input) []source {
	lim := v.opts.Limits
	refuse := func(code, msg string) []source {
		v.add(Problem{File: in.Name, Code: code, Message: "Archive « " + displayText(in.Name, 80) + " » : " + msg})
		v.files = append(v.files, FileResult{Name: in.Name, Problems: 1})
		return nil
	}
	zr, err := zip.NewReader(in.R, in.Size)
	if err != nil {
		return refuse(codeZipInvalid, "ce n'est pas une archive zip lisible. Refaites-la, puis recommencez.")
	}
	if slices.ContainsFunc(zr.File, func(f *zip.File) bool { return f.Name == "[Content_Types].xml" || f.Name == "mimetype" }) {
		return refuse(codeSpreadsheet, "ce fichier est un classeur de tableur, pas un fichier CSV. Enregistrez chaque feuille au format « CSV UTF-8 (délimité par des points-virgules) », puis recommencez.")
	}
	var files []*zip.File
	var total uint64
	for _, f := range zr.File {
		name := f.Name
		if f.FileInfo().IsDir() || ignoredZipName(name) {
			continue
		}
		if !safeZipName(name) {
			return refuse(codeZipPath, "un fichier de l'archive a un chemin dangereux (absolu, ou qui remonte avec « .. »). L'archive n'est pas lue.")
		}
		if f.Flags&0x1 != 0 {
			return refuse(codeZipEncrypted, "l'archive est protégée par un mot de passe. Envoyez-la sans mot de passe.")
		}
		files = append(files, f)
		if len(files) > lim.MaxZipFiles {
			return refuse(codeZipTooMany, fmt.Sprintf("l'archive contient plus de %d fichiers. Envoyez au plus un fichier par type de données.", lim.MaxZipFiles))
		}
		total += f.UncompressedSize64
		if total > uint64(lim.MaxZipBytes) {
			return refuse(codeZipTooLarge, fmt.Sprintf("une fois décompressée, l'archive dépasse %d Mo. Envoyez les fichiers en plusieurs fois.", lim.MaxZipBytes>>20))
		}
		if f.UncompressedSize64 > uint64(lim.MaxZipRatio)*max(f.CompressedSize64, 1) {
			return refuse(codeZipBomb, "un fichier de l'archive se décompresse en une taille démesurée (bombe de décompression). L'archive n'est pas lue.")
		}
	}
	var sources []source
	for _, f := range files {
		name := in.Name + "/" + f.Name
		ext := strings.ToLower(path.Ext(f.Name))
		switch {
		case ext == ".zip":
			v.add(Problem{File: name, Code: codeZipNested, Message: "Archive « " + displayText(name, 80) + " » : une archive dans l'archive n'est pas lue. Mettez directement les fichiers CSV dans l'archive."})
			v.files = append(v.files, FileResult{Name: name, Problems: 1})
		case isWorkbookName(f.Name):
			v.add(Problem{File: name, Line: 1, Code: codeSpreadsheet, Message: place(1, "") + "ce fichier est un classeur de tableur, pas un fichier CSV. Enregistrez chaque feuille au format « CSV UTF-8 (délimité par des points-virgules) », puis recommencez."})
			v.files = append(v.files, FileResult{Name: name, Problems: 1})
		case ext != ".csv" && ext != ".txt":
			v.add(Problem{File: name, Code: codeUnsupportedFile, Message: "Archive « " + displayText(name, 80) + " » : ce fichier n'est pas un fichier CSV ; il n'est pas lu."})
			v.files = append(v.files, FileResult{Name: name, Problems: 1})
		default:
			sources = append(sources, source{name: name, open: func() (io.ReadCloser, error) {
				rc, err := f.Open()
				if err != nil {
					return nil, &zipError{err}
				}
				// archive/zip refuses more bytes than the file declares,
				// and the declared sizes are bounded above.
				return zipEntry{rc}, nil
			}})
		}
	}
	return sources
}

// zipError is an error reading a zip's file (bad checksum, unknown
// compression method, a size that lies): a problem with the upload, not a
// failure of the server.
type zipError struct{ err error }

func (e *zipError) Error() string { return "reading the zip: " + e.err.Error() }
func (e *zipError) Unwrap() error { return e.err }

// zipEntry marks the errors of a zip's file as zipErrors.
type zipEntry struct{ rc io.ReadCloser }

func (z zipEntry) Read(p []byte) (int, error) {
	n, err := z.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &zipError{err}
	}
	return n, err
}

func (z zipEntry) Close() error { return z.rc.Close() }

// ignoredZipName skips what archivers add: macOS resource forks and
// folder metadata.
func ignoredZipName(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(base, "._") || base == ".DS_Store" || base == "Thumbs.db"
}

// safeZipName refuses absolute paths, "..", backslashes and drive letters.
func safeZipName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\:") || strings.HasPrefix(name, "/") {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}
