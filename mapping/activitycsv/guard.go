package activitycsv

import (
	"errors"
	"io"
)

// guard sits between the decoder and encoding/csv. It follows the CSV
// structure byte by byte (quotes, separators, new lines), in constant
// memory, so that it can:
//
//   - refuse a record with more than maxColumns fields, or longer than
//     maxBytes, before encoding/csv has buffered it: encoding/csv allocates
//     per field and would hold a whole file behind a quote left open;
//   - say in which field encoding/csv will find a quote error, since
//     csv.ParseError only gives a byte column;
//   - say where an unterminated quote was opened, since at the end of the
//     file encoding/csv only knows where it stopped.
//
// It counts lines as encoding/csv does (every \n, inside quotes too) and,
// after a quote error, skips to the end of the physical line, as
// encoding/csv drops the rest of it.
type guard struct {
	r          io.Reader
	sep        byte
	maxColumns int
	maxBytes   int

	state       guardState
	line        int // current line, 1-based
	field       int // current field of the record, 0-based
	recordLine  int // line where the record started
	recordBytes int
	quoteLine   int // where the open quote was opened
	quoteField  int
	eof         bool

	// quoteErrors maps a line to the field of its quote error; entries are
	// dropped as encoding/csv reads past them (it is at most its 4 KiB
	// buffer ahead), so the map stays small.
	quoteErrors map[int]int

	err error // sticky: a structural error ends the file
}

type guardState int

const (
	fieldStart guardState = iota
	unquoted
	quoted
	quoteClosed   // a quote inside a quoted field: its end, or the first of ""
	quoteClosedCR // a \r after a closing quote, expecting \n
	skipToLineEnd // after a quote error, as encoding/csv drops the line
	stopped       // after a structural error: nothing more is read
)

// structureError is a structural problem the guard found: a record too
// wide or too long. Reading stops there.
type structureError struct {
	code   string
	line   int
	column int // 1-based field
}

func (e *structureError) Error() string { return "CSV structure: " + e.code }

func newGuard(r io.Reader, sep byte, maxColumns, maxBytes int) *guard {
	return &guard{r: r, sep: sep, maxColumns: maxColumns, maxBytes: maxBytes, line: 1, recordLine: 1,
		quoteErrors: map[int]int{}}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := range n {
		// The common bytes, inside a cell, only count.
		if b := p[i]; g.recordBytes < g.maxBytes && b != '"' && b != '\n' &&
			(g.state == quoted || (g.state == unquoted && b != g.sep)) {
			g.recordBytes++
			continue
		}
		if g.step(p[i]) {
			// Hand over what precedes the offending byte; the error comes
			// with the next call.
			return i, nil
		}
	}
	if errors.Is(err, io.EOF) {
		g.eof = true
	}
	return n, err
}

// step advances over one byte; it reports a structural error.
func (g *guard) step(b byte) bool {
	g.recordBytes++
	if g.recordBytes > g.maxBytes {
		code, line, col := codeRecordTooLong, g.recordLine, g.field+1
		if g.state == quoted || g.state == quoteClosed {
			code, line, col = codeUnterminatedQuote, g.quoteLine, g.quoteField+1
		}
		g.err = &structureError{code: code, line: line, column: col}
		g.state = stopped
		return true
	}
	switch g.state {
	case fieldStart:
		switch b {
		case '"':
			g.state, g.quoteLine, g.quoteField = quoted, g.line, g.field
		case g.sep:
			return g.nextField()
		case '\n':
			g.endRecord()
		default:
			g.state = unquoted
		}
	case unquoted:
		switch b {
		case '"':
			g.quoteError()
		case g.sep:
			g.state = fieldStart
			return g.nextField()
		case '\n':
			g.endRecord()
		}
	case quoted:
		switch b {
		case '"':
			g.state = quoteClosed
		case '\n':
			g.line++
		}
	case quoteClosed:
		switch b {
		case '"':
			g.state = quoted
		case g.sep:
			g.state = fieldStart
			return g.nextField()
		case '\n':
			g.endRecord()
		case '\r':
			g.state = quoteClosedCR
		default:
			g.quoteError()
		}
	case quoteClosedCR:
		if b == '\n' {
			g.endRecord()
		} else {
			g.quoteError()
		}
	case skipToLineEnd:
		if b == '\n' {
			g.endRecord()
		}
	}
	return false
}

func (g *guard) nextField() bool {
	g.field++
	if g.field >= g.maxColumns {
		g.err = &structureError{code: codeTooManyColumns, line: g.line, column: g.field + 1}
		g.state = stopped
		return true
	}
	return false
}

func (g *guard) endRecord() {
	g.line++
	g.state, g.field, g.recordLine, g.recordBytes = fieldStart, 0, g.line, 0
}

func (g *guard) quoteError() {
	g.quoteErrors[g.line] = g.field
	g.state = skipToLineEnd
}

// quoteErrorField returns the field of the quote error encoding/csv
// reports on line, and forgets the lines before it.
func (g *guard) quoteErrorField(line int) (int, bool) {
	f, ok := g.quoteErrors[line]
	for l := range g.quoteErrors {
		if l <= line {
			delete(g.quoteErrors, l)
		}
	}
	return f, ok
}

// openQuote reports where the quote left open at the end of the file was
// opened.
func (g *guard) openQuote() (line, field int, ok bool) {
	return g.quoteLine, g.quoteField, g.eof && (g.state == quoted)
}
