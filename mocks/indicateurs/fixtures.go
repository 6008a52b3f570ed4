package indicateurs

import "time"

// The sandbox establishment and year.
const (
	SandboxFINESS = "750000010"
	SandboxYear   = 2023
)

// sandboxReport is the sandbox's 2023 report (a past year: the current
// year's first upload from the Relais sandbox is version 1) with days days of presence.
func sandboxReport(days string) string {
	return `{"schema":"relais.indicators/v1","finess":"750000010","period":{"start":"2023-01-01","end":"2023-12-31"},` +
		`"days_in_period":365,"capacity":10,"occupancy_rate":0.9,"days_of_presence":` + days + `,"stay_days":3400,"absence_days":106,` +
		`"persons":{"total":12,"by_sex":{"F":8,"M":4,"U":0},"by_age_band":[]},"stays":{"total":12,"entries":3,"exits":2,"average_length_days":410.5},` +
		`"absences":{"total":9,"days":106,"by_reason":[{"reason":"Hospitalisation","count":9,"days":106}]},"presences":{"total":0,"hours":0},"events":{},` +
		`"psu":{"months":[],"totals":{"billed_hours":0,"attended_hours":0,"psu_hours":0,"opening_days":0,"billing_rate":null}}}`
}

// sandbox is the history held at start and after a reset.
var sandbox = []struct {
	finess        string
	year, version int
	body          string
	at            time.Time
}{
	{SandboxFINESS, SandboxYear, 1, sandboxReport("3290"), time.Date(2024, 1, 20, 10, 0, 0, 0, time.UTC)},
	{SandboxFINESS, SandboxYear, 2, sandboxReport("3294"), time.Date(2024, 2, 3, 14, 30, 0, 0, time.UTC)},
}
