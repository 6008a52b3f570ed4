package mapping

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParsePartialDate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want  string
		precision DatePrecision
	}{
		{"1980", "1980", PrecisionYear},
		{"1980-05", "1980-05", PrecisionMonth},
		{"1980-05-12", "1980-05-12", PrecisionDay},
		{"2024-02-29", "2024-02-29", PrecisionDay},
		// The CAF's zero-padded forms.
		{"2020-00-00", "2020", PrecisionYear},
		{"1980-05-00", "1980-05", PrecisionMonth},
		{"2020-00", "2020", PrecisionYear},
		{"1000-01-01", "1000-01-01", PrecisionDay},
		{"9999-12-31", "9999-12-31", PrecisionDay},
	} {
		got, err := ParsePartialDate(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("ParsePartialDate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if p := got.Precision(); p != tt.precision {
			t.Errorf("ParsePartialDate(%q).Precision() = %v, want %v", tt.in, p, tt.precision)
		}
		if !got.Valid() {
			t.Errorf("ParsePartialDate(%q) = %q, not Valid", tt.in, got)
		}
	}
	for _, in := range []string{
		"", "0000", "0000-00-00", "0999", "198", "19800", "1980-5", "1980-5-12", "1980-05-1",
		"1980-13", "1980-13-01", "1980-00-12", // a day without a month: never guessed nor dropped
		"1980-02-30", "2023-02-29", "1980-04-31", "1980-05-32",
		"1980/05/12", "12/05/1980", "1980-05-12T00:00:00Z", " 1980", "1980 ", "+980", "-980", "1980-+5-12", "١٩٨٠",
	} {
		if got, err := ParsePartialDate(in); !errors.Is(err, ErrInvalidPartialDate) {
			t.Errorf("ParsePartialDate(%q) = %q, %v; want ErrInvalidPartialDate", in, got, err)
		} else if in != "" && strings.Contains(err.Error(), in) {
			t.Errorf("ParsePartialDate(%q): error %q quotes the value", in, err)
		}
	}
}

func TestPartialDateValid(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   PartialDate
		want bool
	}{
		{"1980", true},
		{"1980-05", true},
		{"1980-05-12", true},
		{"2020-00-00", false}, // the CAF form is parsed, never canonical
		{"1980-05-00", false},
		{"1980-00", false},
		{"", false},
		{"1980-02-30", false},
	} {
		if got := tt.in.Valid(); got != tt.want {
			t.Errorf("PartialDate(%q).Valid() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPartialDateParts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      PartialDate
		y, m, d int
	}{
		{"1980", 1980, 0, 0},
		{"1980-05", 1980, 5, 0},
		{"1980-05-12", 1980, 5, 12},
		{"1980-05-00", 0, 0, 0},
		{"", 0, 0, 0},
	} {
		if y, m, d := tt.in.Parts(); y != tt.y || m != tt.m || d != tt.d {
			t.Errorf("PartialDate(%q).Parts() = %d, %d, %d; want %d, %d, %d", tt.in, y, m, d, tt.y, tt.m, tt.d)
		}
	}
	for _, tt := range []struct {
		y, m, d int
		want    PartialDate
		ok      bool
	}{
		{1980, 0, 0, "1980", true},
		{1980, 5, 0, "1980-05", true},
		{1980, 5, 12, "1980-05-12", true},
		{1980, 0, 12, "", false},
		{1980, 2, 30, "", false},
		{999, 1, 1, "", false},
		{1980, -1, 0, "", false},
	} {
		got, err := PartialDateFromParts(tt.y, tt.m, tt.d)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("PartialDateFromParts(%d, %d, %d) = %q, %v; want %q (ok %v)", tt.y, tt.m, tt.d, got, err, tt.want, tt.ok)
		}
	}
}

func TestPartialDateMatches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b PartialDate
		want bool
	}{
		{"1980", "1980", true},
		{"1980", "1980-05", true},
		{"1980", "1980-05-12", true},
		{"1980-05", "1980-05-12", true},
		{"1980-05-12", "1980-05-12", true},
		{"1980", "1981", false},
		{"1980", "1981-05-12", false},
		{"1980-05", "1980-06-01", false},
		{"1980-05-12", "1980-05-13", false},
		{"1980-05-12", "1980-12-05", false},
		{"", "", false},
		{"", "1980", false},
		{"1980-05-00", "1980-05", false}, // not canonical: matches nothing
		{"1980-02-30", "1980", false},
	} {
		if got := tt.a.Matches(tt.b); got != tt.want {
			t.Errorf("%q.Matches(%q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Matches(tt.a); got != tt.want {
			t.Errorf("%q.Matches(%q) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   Date
		want bool
	}{
		{"2024-02-29", true},
		{"2023-02-29", false},
		{"2024-2-29", false},
		{"2024", false},
		{"", false},
	} {
		if got := tt.in.Valid(); got != tt.want {
			t.Errorf("Date(%q).Valid() = %v, want %v", tt.in, got, tt.want)
		}
		_, err := tt.in.Time()
		if (err == nil) != tt.want {
			t.Errorf("Date(%q).Time() error = %v, want ok %v", tt.in, err, tt.want)
		}
		if err != nil && (!errors.Is(err, ErrInvalidDate) || (tt.in != "" && strings.Contains(err.Error(), string(tt.in)))) {
			t.Errorf("Date(%q).Time() error = %v, want ErrInvalidDate without the value", tt.in, err)
		}
	}
	paris := time.FixedZone("Europe/Paris", 2*3600)
	if got := DateOf(time.Date(2024, 6, 30, 23, 30, 0, 0, paris)); got != "2024-06-30" {
		t.Errorf("DateOf = %q, want the date in the time's own zone", got)
	}
}

// TestParsePartialDateIsTheFormattedParts checks that returning a prefix of
// the input gives exactly what formatting the parts would, and costs no
// allocation.
func TestParsePartialDateIsTheFormattedParts(t *testing.T) {
	t.Parallel()
	var cases []string
	for _, y := range []string{"0999", "1000", "1980", "2000", "2024", "2100", "9999", "198a", "+980"} {
		cases = append(cases, y)
		for _, m := range []string{"00", "01", "02", "06", "12", "13", "1", "0a"} {
			cases = append(cases, y+"-"+m)
			for _, d := range []string{"00", "01", "28", "29", "30", "31", "32", "1"} {
				cases = append(cases, y+"-"+m+"-"+d)
			}
		}
	}
	cases = append(cases, "", "1980/06/27", "1980-06-27T00:00", " 1980", "1980-0627")
	for _, s := range cases {
		got, err := ParsePartialDate(s)
		y, m, d, perr := partialDateParts(s)
		if (err == nil) != (perr == nil) {
			t.Fatalf("%q: ParsePartialDate error %v, parts error %v", s, err, perr)
		}
		if err != nil {
			continue
		}
		if want, _ := PartialDateFromParts(y, m, d); got != want {
			t.Errorf("%q: got %q, formatting the parts gives %q", s, got, want)
		}
	}
}

// TestParsePartialDateDoesNotAllocate runs alone: AllocsPerRun refuses
// parallel tests.
func TestParsePartialDateDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = ParsePartialDate("1980-06-00") }); n != 0 {
		t.Errorf("ParsePartialDate allocates %v times for a valid date", n)
	}
}
