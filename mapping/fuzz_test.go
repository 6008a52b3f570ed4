package mapping

import (
	"encoding/json"
	"testing"
)

func FuzzParsePartialDate(f *testing.F) {
	for _, s := range []string{"1980", "1980-05", "1980-05-12", "2020-00-00", "1980-05-00", "1980-00-12", "0000-00-00", "1980-02-30", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParsePartialDate(s)
		if err != nil {
			if d != "" {
				t.Fatalf("ParsePartialDate(%q) = %q with error %v", s, d, err)
			}
			return
		}
		if !d.Valid() || d.Precision() == PrecisionNone {
			t.Fatalf("ParsePartialDate(%q) = %q, not a valid partial date", s, d)
		}
		if again, err := ParsePartialDate(string(d)); err != nil || again != d {
			t.Fatalf("ParsePartialDate(%q) = %q, %v; not a fixed point", d, again, err)
		}
		if !d.Matches(d) {
			t.Fatalf("%q does not match itself", d)
		}
		// Normalising only drops zero parts: the result is a prefix of the input.
		if len(d) > len(s) || s[:len(d)] != string(d) {
			t.Fatalf("ParsePartialDate(%q) = %q, not a prefix of the input", s, d)
		}
		y, m, day := d.Parts()
		if back, err := PartialDateFromParts(y, m, day); err != nil || back != d {
			t.Fatalf("PartialDateFromParts(%d, %d, %d) = %q, %v; want %q", y, m, day, back, err, d)
		}
	})
}

func FuzzPersonValidate(f *testing.F) {
	for _, s := range []string{
		`{"birth_family_name":"ROUX","given_names":["Jeanne"],"sex":"F","birth_date":"1987-06-27","birth_place_cog":"75056"}`,
		`{"birth_family_name":"DIALLO","given_names":["Aminata"],"sex":"F","birth_date":"1990","birth_country_cog":"99330","birth_place_cog":"75056"}`,
		`{"birth_family_name":" ","given_names":["", " a"],"sex":"X","birth_date":"2020-00-00","ins":{"value":"163052A00401083","system":"urn:oid:1.2.250.1.213.1.4.8"}}`,
		`{"ins":{},"identifiers":[{},{"system":"urn:x","value":"\n"}]}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Person
		if json.Unmarshal(data, &p) != nil {
			return
		}
		errs := p.Validate()
		for _, fe := range errs {
			if fe.Field == "" || fe.Code == "" || fe.Detail == "" || fe.Message == "" {
				t.Fatalf("incomplete field error %+v", fe)
			}
		}
		if again := p.Validate(); len(again) != len(errs) {
			t.Fatalf("Validate is not deterministic: %d then %d errors", len(errs), len(again))
		}
	})
}
