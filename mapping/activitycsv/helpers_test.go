package activitycsv_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// finess is the reporting establishment of the tests: a FINESS with a
// valid key.
const finess = "750000010"

// options are the tests' report: finess over 2024.
func options() activitycsv.Options {
	return activitycsv.Options{FINESS: finess, Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"}}
}

// A valid upload, file by file: two persons, their stays, an event, two
// presences. Cases change one file.
const (
	personsCSV = "Identifiant usager;Nom de naissance;Nom d'usage;Prénoms;Sexe;Date de naissance;Commune de naissance (code COG);Pays de naissance (code COG);INS\n" +
		"U1;Martin;;Léa;F;12/05/1980;75056;99100;\n" +
		"U2;Durand;;Hugo Jean;M;1975;;;\n"
	staysCSV = "Identifiant séjour;Identifiant usager;Date d'entrée;Date de sortie;Date d'admission;Mode d'entrée;Mode de sortie;Modalité d'accueil\n" +
		"U1-SEJOUR-1;U1;01/09/2023;;;Domicile;;Accueil de jour\n" +
		"U2-SEJOUR-1;U2;15/01/2024;30/06/2024;;;;\n"
	eventsCSV = "Identifiant évènement;Identifiant séjour;Statut;Début;Fin;Type d'évènement\n" +
		"EV1;U1-SEJOUR-1;réalisé;02/02/2024 10:00;02/02/2024 11:00;Soins\n"
	presencesCSV = "Identifiant présence;Identifiant séjour;Nature;Motif d'absence;Début;Fin;Durée (heures);Absence prévue;Facturée\n" +
		"U1-PA-1;U1-SEJOUR-1;présence;;05/02/2024 08:30;;7,5;;oui\n" +
		"U1-PA-2;U1-SEJOUR-1;absence;Hospitalisation;06/02/2024;06/02/2024;;non;non\n"
)

// upload is a set of files by name.
type upload map[string]string

// absent, as a file's body, leaves the file out of validUpload.
const absent = "\x00absent"

// validUpload is the valid upload, with the files given replacing or
// adding to its own; a file given as absent is left out.
func validUpload(files upload) upload {
	u := upload{"usagers.csv": personsCSV, "sejours.csv": staysCSV, "evenements.csv": eventsCSV, "presences.csv": presencesCSV}
	for name, body := range files {
		if body == absent {
			delete(u, name)
			continue
		}
		u[name] = body
	}
	return u
}

// inputs turns files into Read's inputs.
func (u upload) inputs() []activitycsv.Input {
	var in []activitycsv.Input
	for name, body := range u {
		in = append(in, activitycsv.Input{Name: name, R: bytes.NewReader([]byte(body)), Size: int64(len(body))})
	}
	return in
}

// read reads an upload, returning the result and the rows handed on.
func read(t testing.TB, opts activitycsv.Options, u upload) (*activitycsv.Result, []activitycsv.Row) {
	t.Helper()
	var rows []activitycsv.Row
	res, err := activitycsv.Read(context.Background(), opts, func(r activitycsv.Row) error {
		rows = append(rows, r)
		return nil
	}, u.inputs()...)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return res, rows
}
