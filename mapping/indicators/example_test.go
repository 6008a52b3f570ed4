package indicators_test

import (
	"fmt"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/indicators"
)

func ExampleAccumulator() {
	a, err := indicators.New(indicators.Options{
		FINESS:   "750000010",
		Period:   mapping.Period{Start: "2024-01-01", End: "2024-01-31"},
		Capacity: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a.AddPerson(&mapping.ReportPerson{LocalID: "3750000010/U1", Person: mapping.Person{Sex: mapping.SexFemale, BirthDate: "1950-04-02"}})
	a.AddStay(&mapping.Stay{Identifier: "3750000010/U1-SEJOUR-1", PersonLocalID: "3750000010/U1", Start: "2023-05-01"})
	paris, _ := time.LoadLocation("Europe/Paris")
	a.AddPresenceAbsence(&mapping.PresenceAbsence{
		Identifier: "3750000010/U1-PA-1", StayIdentifier: "3750000010/U1-SEJOUR-1", Kind: mapping.Absence,
		Reason: &mapping.Coding{Display: "Hospitalisation"},
		Start:  time.Date(2024, 1, 10, 0, 0, 0, 0, paris), End: time.Date(2024, 1, 12, 23, 59, 59, 0, paris),
	})
	r := a.Report()
	fmt.Println("journées de présence:", r.DaysOfPresence, "taux d'occupation:", *r.OccupancyRate)
	fmt.Println("absences:", r.Absences.ByReason[0].Reason, r.Absences.ByReason[0].Days)
	// Output:
	// journées de présence: 28 taux d'occupation: 0.9032
	// absences: Hospitalisation 3
}
