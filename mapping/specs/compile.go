package specs

import (
	"fmt"
	"io/fs"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// Compile compiles the embedded specs against the canonical schemas: every
// platform's when platform is empty, else only those of the folder of that
// name (a connector compiling its own). A spec with a problem is an error.
func Compile(platform string) (*engine.Catalog, error) {
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		return nil, fmt.Errorf("compiling the canonical schemas: %w", err)
	}
	var specs fs.FS = FS
	if platform != "" {
		if specs, err = fs.Sub(FS, platform); err != nil {
			return nil, fmt.Errorf("opening the specs of %s: %w", platform, err)
		}
	}
	cat, err := engine.LoadCatalog(specs, engine.Options{Schemas: schemas.Get})
	if err != nil {
		return nil, fmt.Errorf("loading mapping specs: %w", err)
	}
	return cat, nil
}
