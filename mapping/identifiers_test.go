package mapping

import (
	"errors"
	"testing"
)

// The numbers below are made up, their keys computed by hand from the
// published rules; none is a real person's.

func TestValidFINESS(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"750000010", true},
		{"130783251", true},
		{"690000351", true},
		{"010000016", true},
		{"750000011", false},  // wrong key
		{"130783215", false},  // two digits swapped
		{"75000001", false},   // 8 digits
		{"7500000100", false}, // 10 digits
		{"2A0000016", false},  // letters
		{"75000001O", false},  // letter O for zero
		{" 750000010", false}, // space
		{"", false},
	} {
		if got := ValidFINESS(tt.in); got != tt.want {
			t.Errorf("ValidFINESS(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidSIRET(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"12345678200010", true},
		{"12345678200028", true},
		{"40483304800014", true},
		{"55203253400018", true},
		{"12345678200011", false},  // wrong key
		{"12345678200001", false},  // establishment number swapped
		{"1234567820001", false},   // 13 digits
		{"123456782000100", false}, // 15 digits
		{"1234567820001A", false},
		{"", false},
		// La Poste: the sum of the digits is a multiple of 5, Luhn or not.
		{"35600000000001", true},  // sum 15, fails Luhn
		{"35600000000010", true},  // sum 15, fails Luhn
		{"35600000000014", false}, // passes Luhn, sum 19
		{"35600000001234", false}, // sum 24
		{"35600000000048", true},  // the head office keeps Luhn (sum 26)
	} {
		if got := ValidSIRET(tt.in); got != tt.want {
			t.Errorf("ValidSIRET(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidSIREN(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"123456782", true},
		{"356000000", true},
		{"123456789", false},
		{"12345678", false},
	} {
		if got := ValidSIREN(tt.in); got != tt.want {
			t.Errorf("ValidSIREN(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidNIR(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"287067505612353", true},
		{"155129900100178", true}, // born abroad (department 99)
		{"189127512501282", true}, // 97 - 1891275125012 mod 97 = 82
		{"163052A00401083", true}, // Corsica: 2A counts as 19
		{"163052000401056", true}, // the same number before 1976 (department 20)
		{"163052B00401083", false},
		{"787067505612394", true}, // temporary number (NIA)
		{"287067505612354", false},
		{"287067505612335", false}, // key digits swapped
		{"28706750561235", false},  // 14 characters
		{"2870675056123530", false},
		{"2870675X5612353", false},
		{"2A7067505612353", false}, // 2A outside the department
		{"", false},
	} {
		if got := ValidNIR(tt.in); got != tt.want {
			t.Errorf("ValidNIR(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidCOG(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in               string
		commune, country bool
	}{
		{"75056", true, false},
		{"08480", true, false},
		{"2A004", true, false},
		{"2B033", true, false},
		{"20004", true, false}, // Ajaccio before 1976
		{"97411", true, false},
		{"98818", true, false},
		{"99100", false, true},
		{"99352", false, true},
		{"00123", false, false},
		{"2C004", false, false},
		{"7505", false, false},
		{"750560", false, false},
		{"9910", false, false},
		{"", false, false},
	} {
		if got := ValidCommuneCOG(tt.in); got != tt.commune {
			t.Errorf("ValidCommuneCOG(%q) = %v, want %v", tt.in, got, tt.commune)
		}
		if got := ValidCountryCOG(tt.in); got != tt.country {
			t.Errorf("ValidCountryCOG(%q) = %v, want %v", tt.in, got, tt.country)
		}
	}
}

func TestTDDUIIdentifiers(t *testing.T) {
	t.Parallel()
	type build func() (string, error)
	for _, tt := range []struct {
		name  string
		build build
		want  string
		valid func(string) bool
	}{
		{"person", func() (string, error) { return PersonLocalID("750000010", "DUI451") }, "3750000010/DUI451", ValidPersonLocalID},
		{"stay", func() (string, error) { return StayIdentifier("750000010", "DUI451", "2024001") }, "3750000010/DUI451-SEJOUR-2024001", ValidStayIdentifier},
		{"presence", func() (string, error) { return PresenceAbsenceIdentifier("750000010", "DUI451", "17") }, "3750000010/DUI451-PA-17", ValidPresenceAbsenceIdentifier},
	} {
		got, err := tt.build()
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if !tt.valid(got) {
			t.Errorf("%s: %q does not pass its own validator", tt.name, got)
		}
	}
	for _, tt := range []struct {
		name  string
		build build
	}{
		{"FINESS key", func() (string, error) { return PersonLocalID("750000011", "DUI451") }},
		{"FINESS length", func() (string, error) { return StayIdentifier("75000001", "DUI451", "1") }},
		{"local id with a dash", func() (string, error) { return StayIdentifier("750000010", "DUI-451", "1") }},
		{"local id with a slash", func() (string, error) { return PersonLocalID("750000010", "a/b") }},
		{"empty local id", func() (string, error) { return PersonLocalID("750000010", "") }},
		{"file number with a space", func() (string, error) { return StayIdentifier("750000010", "DUI451", "2024 1") }},
		{"empty number", func() (string, error) { return PresenceAbsenceIdentifier("750000010", "DUI451", "") }},
	} {
		if got, err := tt.build(); !errors.Is(err, ErrInvalidIdentifier) {
			t.Errorf("%s: got %q, %v; want ErrInvalidIdentifier", tt.name, got, err)
		}
	}

	for _, tt := range []struct {
		in                   string
		person, stay, absent bool
	}{
		{"3750000010/DUI451", true, false, false},
		{"3750000010/DUI451-SEJOUR-2024001", false, true, false},
		{"3750000010/DUI451-PA-17", false, false, true},
		{"3750000010/DUI451-PA-A7b", false, false, true},
		{"3750000010/DUI451-PA-", false, false, false},
		{"3750000010/DUI-451-PA-17", false, false, false},
		{"375000001/DUI451-PA-17", false, false, false}, // 8-digit FINESS
		{"1750000010/DUI451-PA-17", false, false, false},
		{"3750000010/DUI451-SEJOUR-", false, false, false},
		{"3750000010/DUI451-sejour-1", false, false, false},
		{"3750000010/", false, false, false},
		{"3750000010/DUI 451", false, false, false},
		{"", false, false, false},
	} {
		if got := ValidPersonLocalID(tt.in); got != tt.person {
			t.Errorf("ValidPersonLocalID(%q) = %v, want %v", tt.in, got, tt.person)
		}
		if got := ValidStayIdentifier(tt.in); got != tt.stay {
			t.Errorf("ValidStayIdentifier(%q) = %v, want %v", tt.in, got, tt.stay)
		}
		if got := ValidPresenceAbsenceIdentifier(tt.in); got != tt.absent {
			t.Errorf("ValidPresenceAbsenceIdentifier(%q) = %v, want %v", tt.in, got, tt.absent)
		}
	}
}
