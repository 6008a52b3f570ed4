package francetravail

import (
	"errors"
	"testing"
)

func TestNIRKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base string
		key  int
	}{
		{"2900131555012", 26},
		{"1900175107001", 20},
		{"292082A004066", 59},                    // Corsica: 2A reads as 19
		{"292082B004066", 97 - 2920818004066%97}, // 2B reads as 18
	} {
		got, err := NIRKey(tc.base)
		if err != nil || got != tc.key {
			t.Errorf("NIRKey(%s) = %d, %v; want %d", tc.base, got, err, tc.key)
		}
	}
	if _, err := NIRKey("12345"); !errors.Is(err, errNIRKey) {
		t.Errorf("a short NIR: %v", err)
	}
	if _, err := nirBase("290013155501227"); !errors.Is(err, errNIRKey) {
		t.Errorf("a wrong key: %v", err)
	}
}

// TestSandboxPersons checks the fixtures: a NIR agrees with the person's sex
// and birth year and month, and their payments are in date order.
func TestSandboxPersons(t *testing.T) {
	t.Parallel()
	for _, p := range SandboxPersons() {
		sexDigit := map[string]byte{"M": '1', "F": '2'}[p.Sex]
		if p.NIR[0] != sexDigit || p.NIR[1:3] != p.BirthDate[2:4] || p.NIR[3:5] != p.BirthDate[5:7] {
			t.Errorf("%s: NIR %s disagrees with sex %s and birth date %s", p.Number, p.NIR, p.Sex, p.BirthDate)
		}
		for i := 1; i < len(p.Payments); i++ {
			if p.Payments[i-1].Date > p.Payments[i].Date {
				t.Errorf("%s: payments out of order", p.Number)
			}
		}
		if p.SandboxToken == "" {
			t.Errorf("%s: no sandbox person token", p.Number)
		}
	}
}

// FuzzNIRBase feeds nirBase what a client may send (after the contract's
// pattern, which the fuzzer does not assume): it must not panic, and a
// 15-character NIR it accepts carries the key NIRKey computes.
func FuzzNIRBase(f *testing.F) {
	for _, s := range []string{"290013155501226", "2900131555012", "292082A00406659", "2A", "", "29208xA0040665Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, nir string) {
		base, err := nirBase(nir)
		if err != nil || len(nir) != 15 {
			return
		}
		key, kerr := NIRKey(base)
		if kerr != nil || nir[13:] != twoDigits(key) {
			t.Fatalf("nirBase accepted %q with key %d (%v)", nir, key, kerr)
		}
	})
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}
