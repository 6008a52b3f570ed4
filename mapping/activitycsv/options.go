package activitycsv

import (
	"errors"
	"fmt"
	"time"

	"github.com/relais-dev/relais/mapping"
)

// Options are one upload's parameters: whose report it is, over which
// period, and the limits that bound the reading.
type Options struct {
	// FINESS is the reporting establishment's FINESS number, key checked.
	// Short identifiers in the files ("U0042") are completed with it
	// ("3<FINESS>/U0042"); full ones must carry it. Required.
	FINESS string
	// SIRET is the establishment's SIRET, key checked, when it has one.
	// Optional.
	SIRET string
	// Period is the report's period; stays must overlap it, events and
	// presences lie inside it. Both ends required.
	Period mapping.Period
	// Partial hands valid rows on even when other rows are invalid. When
	// false (the default), no row is handed on after the first problem:
	// an invalid upload delivers nothing.
	Partial bool
	// Location is the time zone of the files' dates and times. Default:
	// Europe/Paris.
	Location *time.Location
	// Limits bound the reading; zero fields take their defaults.
	Limits Limits
}

// Limits bound what one upload may cost, whatever its content.
type Limits struct {
	// MaxProblems is how many problems are listed; the rest are counted
	// in one last too_many_errors problem. Default 1000.
	MaxProblems int `yaml:"max_problems"`
	// MaxColumns is the most columns a line may have; a wider line ends
	// its file (too_many_columns). Default 256.
	MaxColumns int `yaml:"max_columns"`
	// MaxRecordBytes is the most bytes a line (a record, with the new lines
	// of its quoted cells) may have; a longer one ends its file. Default
	// 65536.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// MaxZipFiles is the most files a zip may hold. Default 16.
	MaxZipFiles int `yaml:"max_zip_files"`
	// MaxZipBytes is the most bytes the files of a zip may hold once
	// uncompressed, together. Default 1 GiB.
	MaxZipBytes int64 `yaml:"max_zip_bytes"`
	// MaxZipRatio is the most a zip's file may expand, uncompressed size
	// over compressed size; beyond, it is a zip bomb. CSV exports expand
	// 5 to 30 times. Default 200.
	MaxZipRatio int64 `yaml:"max_zip_ratio"`
}

// Defaults.
const (
	DefaultMaxProblems    = 1000
	DefaultMaxColumns     = 256
	DefaultMaxRecordBytes = 64 << 10
	DefaultMaxZipFiles    = 16
	DefaultMaxZipBytes    = 1 << 30
	DefaultMaxZipRatio    = 200
)

// WithDefaults returns l with zero fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxProblems == 0 {
		l.MaxProblems = DefaultMaxProblems
	}
	if l.MaxColumns == 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	if l.MaxRecordBytes == 0 {
		l.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if l.MaxZipFiles == 0 {
		l.MaxZipFiles = DefaultMaxZipFiles
	}
	if l.MaxZipBytes == 0 {
		l.MaxZipBytes = DefaultMaxZipBytes
	}
	if l.MaxZipRatio == 0 {
		l.MaxZipRatio = DefaultMaxZipRatio
	}
	return l
}

// Validate names the first faulty field.
func (l Limits) Validate() error {
	switch {
	case l.MaxProblems < 1:
		return errors.New("max_problems: must be at least 1")
	case l.MaxColumns < 2 || l.MaxColumns > 4096:
		return errors.New("max_columns: must be between 2 and 4096")
	case l.MaxRecordBytes < 1024 || l.MaxRecordBytes > 64<<20:
		return errors.New("max_record_bytes: must be between 1024 and 67108864")
	case l.MaxZipFiles < 1:
		return errors.New("max_zip_files: must be at least 1")
	case l.MaxZipBytes < 1:
		return errors.New("max_zip_bytes: must be at least 1")
	case l.MaxZipRatio < 2:
		return errors.New("max_zip_ratio: must be at least 2")
	}
	return nil
}

// WithDefaults returns o with zero fields set to their defaults. Europe/Paris
// needs the system's time zone database, or the time/tzdata package
// imported by the program.
func (o Options) WithDefaults() Options {
	if o.Location == nil {
		if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
			o.Location = loc
		}
	}
	o.Limits = o.Limits.WithDefaults()
	return o
}

// Validate names the first faulty field.
func (o Options) Validate() error {
	switch {
	case o.FINESS == "":
		return errors.New("FINESS: is required")
	case !mapping.ValidFINESS(o.FINESS):
		return errors.New("FINESS: must be 9 digits with a valid key")
	case o.SIRET != "" && !mapping.ValidSIRET(o.SIRET):
		return errors.New("SIRET: must be 14 digits with a valid key")
	case !o.Period.Start.Valid():
		return errors.New("Period.Start: must be a date, YYYY-MM-DD")
	case !o.Period.End.Valid():
		return errors.New("Period.End: must be a date, YYYY-MM-DD")
	case o.Period.End < o.Period.Start:
		return errors.New("Period.End: must not be before Period.Start")
	case o.Location == nil:
		return errors.New("Location: is required (Europe/Paris is not in this system's time zone database; import time/tzdata)")
	}
	if err := o.Limits.Validate(); err != nil {
		return fmt.Errorf("Limits: %w", err)
	}
	return nil
}
