package francetravail

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errNIRKey is returned for a NIR whose control key does not match.
var errNIRKey = errors.New("the NIR's control key does not match")

// nirBase checks a NIR of 13 characters, or of 15 with its key, and returns
// its 13 first characters. The contract's pattern has already checked the
// characters; this checks the key: 97 minus the number modulo 97, with
// Corsica's 2A and 2B read as 19 and 18.
func nirBase(nir string) (string, error) {
	base := nir[:min(13, len(nir))]
	if len(nir) != 15 {
		return base, nil
	}
	key, err := NIRKey(base)
	if err != nil || nir[13:] != fmt.Sprintf("%02d", key) {
		return "", errNIRKey
	}
	return base, nil
}

// NIRKey computes the control key of the 13 first characters of a NIR.
func NIRKey(base string) (int, error) {
	if len(base) != 13 {
		return 0, errNIRKey
	}
	digits := strings.NewReplacer("2A", "19", "2B", "18").Replace(base)
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, errNIRKey
	}
	return 97 - int(n%97), nil
}
