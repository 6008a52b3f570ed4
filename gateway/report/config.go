package report

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// Config configures activity reports.
type Config struct {
	// ChunkEntries is the most canonical rows of one TDDUI chunk (one
	// bundle, one delivery, one receipt). Default 1000.
	ChunkEntries int `yaml:"chunk_entries"`
	// Routes say which outputs go to which destination. Default: none
	// (uploads are checked and kept, nothing is delivered).
	Routes []Route `yaml:"routes"`
	// Establishments describe establishments beyond their FINESS: which are
	// crèches (they declare to the CAF's PSU). Default: none.
	Establishments []Establishment `yaml:"establishments"`
	// CrecheCategories are the FINESS category codes of crèches (EAJE): an
	// establishment of one of them is a crèche. Default: none.
	CrecheCategories []string `yaml:"creche_categories"`
	// IndicatorsDue is the day of the year ("MM-DD") by which the previous
	// year's indicator report is due. Default "06-30".
	IndicatorsDue string `yaml:"indicators_due"`
	// MaxJSONBytes bounds a JSON upload, held whole to be checked. Default
	// 64 MiB.
	MaxJSONBytes int64 `yaml:"max_json_bytes"`
	// MaxUploadBytes bounds the files of one upload together, spooled to
	// disk. Default 2 GiB.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// SpoolDir is where uploaded files are spooled while they are read.
	// Default: the system's temporary directory.
	SpoolDir string `yaml:"spool_dir"`
	// Limits bound the reading of CSV files; zero fields take
	// activitycsv's defaults (1,000 problems listed, ...).
	Limits activitycsv.Limits `yaml:"limits"`
	// PurgeInterval is how often the staged rows of uploads that no
	// version took (interrupted uploads) are deleted. Default 1h.
	PurgeInterval time.Duration `yaml:"purge_interval"`
	// PurgeAfter is how old such staged rows must be to be deleted: longer
	// than the longest upload. Default 24h.
	PurgeAfter time.Duration `yaml:"purge_after"`
}

// Route sends one output of the reports to one destination.
type Route struct {
	// Output is tddui_bundle, indicators or psu_declaration. Required.
	Output connectors.ReportKind `yaml:"output"`
	// Destination is the connector's name. Required.
	Destination string `yaml:"destination"`
	// FINESS limits the route to these establishments. Default: all.
	FINESS []string `yaml:"finess"`
}

// Establishment is what Relais knows of an establishment beyond its FINESS.
type Establishment struct {
	// FINESS is the establishment's FINESS number. Required.
	FINESS string `yaml:"finess"`
	// Category is its FINESS category code (3 digits). Default: unknown.
	Category string `yaml:"category"`
	// Creche marks a crèche (EAJE) funded by the PSU. Default false.
	Creche bool `yaml:"creche"`
	// SIRET is the establishment's SIRET, which its PSU declarations
	// carry. Required for a crèche.
	SIRET string `yaml:"siret"`
	// Name is the establishment's name, sent in the TDDUI bundles'
	// Organization. Default: none.
	Name string `yaml:"name"`
	// Capacity is its number of places, for the occupancy rate. Default 0:
	// unknown, no occupancy rate.
	Capacity int `yaml:"capacity"`
	// CAFWithoutFINESS says the CAF knows the crèche by its SIRET only:
	// its PSU declarations carry no FINESS. Default false.
	CAFWithoutFINESS bool `yaml:"caf_without_finess"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ChunkEntries <= 0 {
		c.ChunkEntries = 1000
	}
	if c.IndicatorsDue == "" {
		c.IndicatorsDue = "06-30"
	}
	if c.MaxJSONBytes <= 0 {
		c.MaxJSONBytes = 64 << 20
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 2 << 30
	}
	c.Limits = c.Limits.WithDefaults()
	if c.PurgeInterval <= 0 {
		c.PurgeInterval = time.Hour
	}
	if c.PurgeAfter <= 0 {
		c.PurgeAfter = 24 * time.Hour
	}
	return c
}

var monthDayPattern = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)

// Validate names the first faulty field.
func (c Config) Validate() error {
	if c.ChunkEntries > 100000 {
		return errors.New("reports.chunk_entries: must be at most 100000")
	}
	if !monthDayPattern.MatchString(c.IndicatorsDue) {
		return errors.New("reports.indicators_due: must be MM-DD")
	}
	if c.PurgeInterval < time.Second {
		return errors.New("reports.purge_interval: must be at least 1s")
	}
	if c.PurgeAfter < time.Hour {
		return errors.New("reports.purge_after: must be at least 1h (longer than an upload)")
	}
	kinds := []connectors.ReportKind{connectors.ReportTDDUIBundle, connectors.ReportIndicators, connectors.ReportPSUDeclaration}
	for i, r := range c.Routes {
		switch {
		case !slices.Contains(kinds, r.Output):
			return fmt.Errorf("reports.routes[%d].output: must be tddui_bundle, indicators or psu_declaration", i)
		case r.Destination == "":
			return fmt.Errorf("reports.routes[%d].destination: required", i)
		}
		for j, f := range r.FINESS {
			if !mapping.ValidFINESS(f) {
				return fmt.Errorf("reports.routes[%d].finess[%d]: not a FINESS number with a valid key", i, j)
			}
		}
	}
	for i, e := range c.Establishments {
		switch {
		case !mapping.ValidFINESS(e.FINESS):
			return fmt.Errorf("reports.establishments[%d].finess: not a FINESS number with a valid key", i)
		case e.SIRET != "" && !mapping.ValidSIRET(e.SIRET):
			return fmt.Errorf("reports.establishments[%d].siret: not a SIRET with a valid key", i)
		case e.SIRET == "" && c.creche(e.FINESS):
			return fmt.Errorf("reports.establishments[%d].siret: required for a crèche (its PSU declarations carry it)", i)
		case e.Capacity < 0:
			return fmt.Errorf("reports.establishments[%d].capacity: must not be negative", i)
		case len(e.Name) > 200:
			return fmt.Errorf("reports.establishments[%d].name: at most 200 bytes", i)
		}
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("reports.limits: %w", err)
	}
	return nil
}

// establishment returns what the configuration says of an establishment.
func (c Config) establishment(finess string) Establishment {
	for _, e := range c.Establishments {
		if e.FINESS == finess {
			return e
		}
	}
	return Establishment{FINESS: finess}
}

// creche reports whether the establishment declares to the PSU.
func (c Config) creche(finess string) bool {
	for _, e := range c.Establishments {
		if e.FINESS == finess && (e.Creche || (e.Category != "" && slices.Contains(c.CrecheCategories, e.Category))) {
			return true
		}
	}
	return false
}

// routes returns the routes that apply to an establishment.
func (c Config) routes(finess string) []Route {
	creche := c.creche(finess)
	var out []Route
	for _, r := range c.Routes {
		if len(r.FINESS) > 0 && !slices.Contains(r.FINESS, finess) {
			continue
		}
		if r.Output == connectors.ReportPSUDeclaration && !creche {
			continue
		}
		out = append(out, r)
	}
	return out
}
