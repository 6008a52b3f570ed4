package cafpsu

import (
	"fmt"
	"math"
	"regexp"
	"time"
)

// Structure is a crèche (EAJE) funded by the PSU, as the CAF knows it.
type Structure struct {
	// PartnerNumber is the CAF partner number (8 digits).
	PartnerNumber string
	Name          string
	SIRET         string
	// FINESS is empty when the structure has none.
	FINESS   string
	City     string
	Capacity int
	// Sandbox structures take declarations at any date.
	Sandbox bool
	// History are declarations received before the mock started.
	History []HistoricDeclaration
}

// HistoricDeclaration is a declaration received before the mock started.
type HistoricDeclaration struct {
	Year          int
	Kind          Kind
	Establishment Establishment
	Months        []Month
	ReceivedAt    time.Time

	partner string
}

// Establishment identifies the structure in a declaration.
type Establishment struct {
	SIRET  string  `json:"siret"`
	FINESS *string `json:"finess"`
}

// Month is one month of activity.
type Month struct {
	Month         string  `json:"month"`
	BilledHours   float64 `json:"billed_hours"`
	AttendedHours float64 `json:"attended_hours"`
	PSUHours      float64 `json:"psu_hours"`
	Children      int     `json:"children"`
	OpeningDays   int     `json:"opening_days"`
}

// The sandbox structures' partner numbers.
const (
	PartnerLucioles   = "75012345" // Crèche collective Les Lucioles, Paris
	PartnerPtitsMomes = "69023456" // Multi-accueil Les P'tits Mômes, Lyon
	PartnerGalopins   = "31034567" // Micro-crèche Les Galopins, Toulouse (another manager)
	PartnerSandbox    = "99000001" // takes declarations at any date
)

var rePartner = regexp.MustCompile(`^[0-9]{8}$`)

// openingDays is a typical year of a crèche: closed three weeks in August
// and between Christmas and New Year.
var openingDays = [12]int{22, 20, 21, 21, 19, 20, 22, 10, 22, 23, 19, 15}

// activity makes the months of a plausible year for a crèche of capacity
// places: about 82% of the places billed 9.5 hours a day, 94% of the
// billed hours attended, 98% covered by the PSU. bump adds to January's
// billed hours (a correction).
func activity(year, capacity, months int, bump float64) []Month {
	quarter := func(v float64) float64 { return math.Round(v*4) / 4 }
	out := make([]Month, months)
	for i := range out {
		days := openingDays[i]
		billed := quarter(float64(capacity) * float64(days) * 9.5 * 0.82)
		if i == 0 {
			billed += bump
		}
		out[i] = Month{
			Month:         fmt.Sprintf("%04d-%02d", year, i+1),
			BilledHours:   billed,
			AttendedHours: quarter(billed * 0.94),
			PSUHours:      quarter(billed * 0.98),
			Children:      capacity * 7 / 5,
			OpeningDays:   days,
		}
	}
	return out
}

// SandboxStructures returns the sandbox structures with their past
// declarations: Les Lucioles has an actual of 2024 in two versions (the
// second corrects January), the forecast and June update of 2025; Les
// P'tits Mômes and Les Galopins their forecast of 2025; the sandbox
// structure nothing.
func SandboxStructures() []Structure {
	finess := func(s string) *string { return &s }
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err) // a literal below
		}
		return t
	}
	lucioles := Establishment{SIRET: "21759901800017", FINESS: finess("750012346")}
	momes := Establishment{SIRET: "78345612200028"}
	galopins := Establishment{SIRET: "81234567600033", FINESS: finess("310034566")}
	return []Structure{
		{
			PartnerNumber: PartnerLucioles, Name: "Crèche collective Les Lucioles", SIRET: lucioles.SIRET, FINESS: *lucioles.FINESS,
			City: "Paris", Capacity: 60,
			History: []HistoricDeclaration{
				{Year: 2024, Kind: KindActual, Establishment: lucioles, Months: activity(2024, 60, 12, 0), ReceivedAt: at("2025-03-12T09:30:00Z")},
				{Year: 2024, Kind: KindActual, Establishment: lucioles, Months: activity(2024, 60, 12, 40), ReceivedAt: at("2025-03-28T14:02:11Z")},
				{Year: 2025, Kind: KindForecast, Establishment: lucioles, Months: activity(2025, 60, 12, 0), ReceivedAt: at("2025-02-03T10:00:00Z")},
				{Year: 2025, Kind: KindUpdateJune, Establishment: lucioles, Months: activity(2025, 60, 6, 0), ReceivedAt: at("2025-07-08T16:45:00Z")},
			},
		},
		{
			PartnerNumber: PartnerPtitsMomes, Name: "Multi-accueil Les P'tits Mômes", SIRET: momes.SIRET,
			City: "Lyon", Capacity: 24,
			History: []HistoricDeclaration{
				{Year: 2025, Kind: KindForecast, Establishment: momes, Months: activity(2025, 24, 12, 0), ReceivedAt: at("2025-02-14T08:20:00Z")},
			},
		},
		{
			PartnerNumber: PartnerGalopins, Name: "Micro-crèche Les Galopins", SIRET: galopins.SIRET, FINESS: *galopins.FINESS,
			City: "Toulouse", Capacity: 12,
			History: []HistoricDeclaration{
				{Year: 2025, Kind: KindForecast, Establishment: galopins, Months: activity(2025, 12, 12, 0), ReceivedAt: at("2025-02-10T11:00:00Z")},
			},
		},
		{
			PartnerNumber: PartnerSandbox, Name: "Crèche d'essai (bac à sable)", SIRET: "99000001000019",
			City: "Paris", Capacity: 20, Sandbox: true,
		},
	}
}

// luhn checks the Luhn key of a string of digits (SIRET, SIREN).
func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		c := s[len(s)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return len(s) > 0 && sum%10 == 0
}
