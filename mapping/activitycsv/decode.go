package activitycsv

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Encoding is the character encoding a file was read in.
type Encoding string

// Encodings.
const (
	// EncodingASCII: no byte above 127, so UTF-8 and Windows-1252 agree.
	EncodingASCII Encoding = "ascii"
	// EncodingUTF8: UTF-8 without a byte order mark.
	EncodingUTF8 Encoding = "utf-8"
	// EncodingUTF8BOM: UTF-8 with a byte order mark, as Excel writes
	// "CSV UTF-8".
	EncodingUTF8BOM Encoding = "utf-8-bom"
	// EncodingWindows1252: Windows-1252 ("ANSI"), as Excel writes "CSV
	// (séparateur : point-virgule)" on a French Windows.
	EncodingWindows1252 Encoding = "windows-1252"
	// EncodingUTF16: UTF-16 ("texte Unicode" in Excel), recognised by its
	// byte order mark and refused.
	EncodingUTF16 Encoding = "utf-16"
)

// errUTF16 reports a UTF-16 file ("texte Unicode" in Excel), which we do
// not read: its byte order mark is FF FE or FE FF.
var errUTF16 = errors.New("UTF-16 file")

// decoder turns a file in UTF-8 (with or without a byte order mark) or in
// Windows-1252 into UTF-8. It decides at the first byte above 127: if that
// byte starts a valid UTF-8 sequence, the file is UTF-8, otherwise it is
// Windows-1252 (whose letters with accents are single bytes that are never
// valid UTF-8). Everything before that byte is ASCII, the same in both, so
// the decision needs no look-ahead beyond one character and the file is
// read once.
//
// In UTF-8 an invalid sequence further on is passed through as is, and the
// cell that holds it is refused (invalid_encoding); in Windows-1252 the five
// bytes the code page leaves undefined (81, 8D, 8F, 90, 9D) decode to
// U+FFFD, and are refused the same way: a file invalid in both encodings
// ends up there.
type decoder struct {
	src      *bufio.Reader
	started  bool
	encoding Encoding
	win      io.Reader // the Windows-1252 decoder, once chosen
	// magic is the file's first bytes as they are, to tell a workbook.
	magic []byte
}

func newDecoder(r io.Reader) *decoder {
	return &decoder{src: bufio.NewReaderSize(r, 64<<10), encoding: EncodingASCII}
}

func (d *decoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !d.started {
		d.started = true
		head, err := d.src.Peek(4)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		d.magic = append([]byte(nil), head...)
		switch {
		case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
			_, _ = d.src.Discard(3)
			d.encoding = EncodingUTF8BOM
		case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
			d.encoding = EncodingUTF16
			return 0, errUTF16
		}
	}
	switch d.encoding {
	case EncodingUTF16:
		return 0, errUTF16
	case EncodingUTF8, EncodingUTF8BOM:
		return d.src.Read(p)
	case EncodingWindows1252:
		return d.win.Read(p)
	}
	// Still ASCII: pass ASCII through up to the first byte above 127.
	if d.src.Buffered() == 0 {
		if _, err := d.src.Peek(1); err != nil {
			return 0, err
		}
	}
	buf, _ := d.src.Peek(d.src.Buffered())
	n := 0
	for n < len(buf) && n < len(p) && buf[n] < utf8.RuneSelf {
		n++
	}
	if n > 0 {
		copy(p, buf[:n])
		_, _ = d.src.Discard(n)
		return n, nil
	}
	seq, err := d.src.Peek(utf8.UTFMax)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if r, size := utf8.DecodeRune(seq); r == utf8.RuneError && size <= 1 {
		d.encoding = EncodingWindows1252
		d.win = transform.NewReader(d.src, charmap.Windows1252.NewDecoder())
	} else {
		d.encoding = EncodingUTF8
	}
	return d.Read(p)
}
