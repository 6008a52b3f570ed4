package engine

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Catalog is a set of compiled specs, at most one per platform, operation
// and direction. It is safe for concurrent use.
type Catalog struct {
	plans []*Plan
}

// LoadCatalog compiles every spec under fsys: every .yaml file outside
// testdata folders. It fails if any spec has a problem, listing them all,
// or if two specs map the same platform, operation and direction.
func LoadCatalog(fsys fs.FS, opts Options) (*Catalog, error) {
	files, err := SpecFiles(fsys)
	if err != nil {
		return nil, err
	}
	c := &Catalog{}
	var errs []error
	for _, f := range files {
		p, err := LoadFS(fsys, f, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := c.Plan(p.Platform, p.Operation, p.Direction); ok {
			errs = append(errs, errors.New("mapping specs "+prev.File+" and "+f+" both map "+p.Platform+" "+p.Operation+" "+p.Direction))
			continue
		}
		c.plans = append(c.plans, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// SpecFiles lists the spec files under fsys, sorted: every .yaml file
// outside testdata folders.
func SpecFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	return files, nil
}

// Plan returns the plan of a platform's operation in one direction.
func (c *Catalog) Plan(platform, operation, direction string) (*Plan, bool) {
	for _, p := range c.plans {
		if p.Platform == platform && p.Operation == operation && p.Direction == direction {
			return p, true
		}
	}
	return nil, false
}

// Plans returns every plan, in file order.
func (c *Catalog) Plans() []*Plan { return slices.Clone(c.plans) }

// Dir is the folder of a plan's file, where its testdata lives.
func (p *Plan) Dir() string { return path.Dir(p.File) }
