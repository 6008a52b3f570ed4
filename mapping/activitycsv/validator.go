package activitycsv

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// Row is one valid row, in the canonical model: exactly one of Person,
// Stay, Event and Presence is set. The values are the handler's to keep.
type Row struct {
	Kind Kind
	// File and Line say where the row's record starts.
	File     string
	Line     int
	Person   *mapping.ReportPerson
	Stay     *mapping.Stay
	Event    *mapping.Event
	Presence *mapping.PresenceAbsence
}

// Handler receives the valid rows as they are read. An error stops the
// reading and is returned by ReadCSV or Read.
type Handler func(Row) error

// FileResult sums up one file.
type FileResult struct {
	// Name is the file's name; "archive.zip/name.csv" inside a zip.
	Name string `json:"name"`
	// Kind is what the file holds; KindUnknown when it could not be told.
	Kind     Kind     `json:"kind"`
	Encoding Encoding `json:"encoding,omitempty"`
	// Separator is the one found on the header line.
	Separator string `json:"separator,omitempty"`
	// Rows counts the data rows read (blank rows are skipped); ValidRows
	// those without a problem.
	Rows      int `json:"rows"`
	ValidRows int `json:"valid_rows"`
	// Problems counts the file's problems, listed or not.
	Problems int `json:"problems"`
}

// Result is the outcome of an upload.
type Result struct {
	Files []FileResult `json:"files"`
	// Problems lists the first Limits.MaxProblems problems in the order
	// they were found (file by file, line by line), then one
	// too_many_errors problem counting the others.
	Problems []Problem `json:"problems"`
	// Total counts every problem, listed or not.
	Total int `json:"total"`
}

// Valid reports whether the upload has no problem at all.
func (r *Result) Valid() bool { return r.Total == 0 }

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name; an unknown name is KindUnknown.
func (k *Kind) UnmarshalText(b []byte) error {
	*k = KindUnknown
	for _, c := range Kinds() {
		if c.String() == string(b) {
			*k = c
		}
	}
	return nil
}

// Validator reads the files of one upload, checks every row and the rules
// across rows, and hands the valid rows, mapped to the canonical model, to
// its handler. Memory stays bounded whatever the number of rows: the rows
// are not kept, and the identifiers seen are kept as 64-bit hashes (a
// collision, which would report a false duplicate, has a probability of
// about 3·10⁻⁸ at a million rows).
//
// A Validator is for one upload and one goroutine.
type Validator struct {
	opts   Options
	handle Handler
	seed   maphash.Seed
	// prefix completes short identifiers: "3<FINESS>/".
	prefix string
	// periodStart and periodEnd bound events and presences:
	// [first day 00:00, day after the last 00:00) in opts.Location.
	periodStart, periodEnd time.Time

	// The identifiers seen, hashed. For persons and stays, which rows
	// refer to, the value says whether the row was valid.
	persons   map[uint64]bool
	stays     map[uint64]bool
	events    map[uint64]struct{}
	presences map[uint64]struct{}
	// present and read say, per kind, whether a file was found, and
	// whether its rows were read (its header line was complete).
	present, read [KindPresences + 1]bool

	problems []Problem
	total    int
	// firstUnlisted is where the first problem left out of the list is.
	firstUnlisted Problem
	files         []FileResult
}

// NewValidator checks the options and returns a validator that hands
// valid rows to h (which may be nil, to validate only).
func NewValidator(opts Options, h Handler) (*Validator, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("checking the options: %w", err)
	}
	if h == nil {
		h = func(Row) error { return nil }
	}
	start, _ := opts.Period.Start.Time()
	end, _ := opts.Period.End.Time()
	return &Validator{
		opts:        opts,
		handle:      h,
		seed:        maphash.MakeSeed(),
		prefix:      "3" + opts.FINESS + "/",
		periodStart: time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, opts.Location),
		periodEnd:   time.Date(end.Year(), end.Month(), end.Day()+1, 0, 0, 0, 0, opts.Location),
		persons:     map[uint64]bool{},
		stays:       map[uint64]bool{},
		events:      map[uint64]struct{}{},
		presences:   map[uint64]struct{}{},
	}, nil
}

// add records a problem; past the limit it is only counted.
func (v *Validator) add(p Problem) {
	v.total++
	if len(v.problems) < v.opts.Limits.MaxProblems {
		v.problems = append(v.problems, p)
		return
	}
	if v.total == v.opts.Limits.MaxProblems+1 {
		v.firstUnlisted = p
	}
}

// fileProblem records a problem with a whole file or line.
func (v *Validator) fileProblem(file string, line int, code, message string) {
	v.add(Problem{File: file, Line: line, Code: code, Message: place(line, "") + message})
}

// Result returns the outcome so far: the files read and the problems.
func (v *Validator) Result() *Result {
	res := &Result{Files: append([]FileResult(nil), v.files...), Problems: append([]Problem(nil), v.problems...), Total: v.total}
	if n := v.total - len(v.problems); n > 0 {
		p := v.firstUnlisted
		res.Problems = append(res.Problems, Problem{
			File: p.File, Line: max(p.Line, 1), Code: codeTooManyErrors,
			Message: place(max(p.Line, 1), "") + fmt.Sprintf(
				"à partir d'ici, %d autres erreurs ne sont pas listées. Corrigez celles qui le sont, puis validez à nouveau.", n),
		})
	}
	return res
}

func (v *Validator) hash(id string) uint64 { return maphash.String(v.seed, id) }

// ReadCSV reads one CSV file of any kind, told by its header line (or its
// name). It reports the file's problems in the Result and returns an
// error only when r fails, the handler fails or ctx is done.
//
// Files must come in the order of Kinds (persons, stays, then events and
// presences), so that references can be checked as rows stream by; rows
// referring to a kind of file not read yet are reported (missing_file).
// Read puts files in that order itself.
func (v *Validator) ReadCSV(ctx context.Context, name string, r io.Reader) error {
	f := &fileReader{v: v, res: FileResult{Name: name}}
	before := v.total
	err := f.read(ctx, r)
	f.res.Problems = v.total - before
	v.files = append(v.files, f.res)
	return err
}
