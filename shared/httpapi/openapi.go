package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"gopkg.in/yaml.v3"
)

// openAPIYAML is the API's OpenAPI 3.1 description, written by hand next to
// the function table (functions.go): TestOpenAPI holds it to its routes, and the integration
// tests check every response they receive against it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIJSON is the document as JSON, converted once.
var OpenAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi: parse openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: as JSON: %w", err)
	}
	return b, nil
})

// OpenAPIYAML is the document as written.
func OpenAPIYAML() []byte { return openAPIYAML }

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := OpenAPIJSON()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}
