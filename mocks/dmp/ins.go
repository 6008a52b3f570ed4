package dmp

import "strconv"

// The identifier systems of the INS (identifiant national de santé).
const (
	SystemINSNIR  = "urn:oid:1.2.250.1.213.1.4.8"  // INS-NIR, the person's NIR
	SystemINSNIA  = "urn:oid:1.2.250.1.213.1.4.9"  // INS-NIA, a temporary number
	SystemTestNIR = "urn:oid:1.2.250.1.213.1.4.10" // test NIR
	SystemDemoNIR = "urn:oid:1.2.250.1.213.1.4.11" // demonstration NIR
)

// isINSSystem reports whether system is one of the INS OIDs.
func isINSSystem(system string) bool {
	switch system {
	case SystemINSNIR, SystemINSNIA, SystemTestNIR, SystemDemoNIR:
		return true
	}
	return false
}

// validNIR reports whether v is a 15-character NIR whose last two digits
// are its control key: 97 minus the 13-character number modulo 97, where
// the Corsican departments 2A and 2B count as 19 and 18.
func validNIR(v string) bool {
	if len(v) != 15 {
		return false
	}
	num := v[:13]
	switch num[5:7] {
	case "2A":
		num = num[:5] + "19" + num[7:]
	case "2B":
		num = num[:5] + "18" + num[7:]
	}
	if !allDigits(num) || !allDigits(v[13:]) {
		return false
	}
	n, _ := strconv.ParseUint(num, 10, 64) // 13 digits always fit
	key, _ := strconv.ParseUint(v[13:], 10, 64)
	return key == 97-n%97
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// patientKey is how the store indexes a patient: "<system>|<value>", the
// FHIR token form.
func patientKey(system, value string) string {
	return system + "|" + value
}
