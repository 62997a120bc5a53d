package api

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the hand-written OpenAPI 3.1 description of the API. It is
// kept honest by a test that compares its paths and methods with the
// registered routes in both directions.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI document.
func OpenAPI() []byte { return openAPIDoc }

func (s *Server) registerOpenAPI() {
	s.Handle(Route{Method: "GET", Pattern: "/api/v1/openapi.json"}, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(openAPIDoc)
		return err
	})
}
