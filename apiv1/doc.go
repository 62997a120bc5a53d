// Package apiv1 is Flywheel's HTTP API version 1 as a client sees it: the
// request and response bodies of /api/v1, as Go types with their JSON
// names. It is apart from the server's storage records (internal/store)
// and imports no server package, so that a client — the flywheel command
// line, the agent, a program of yours — can use it, and so that a change
// of storage does not change the API by accident: internal/api's tests
// decode every golden response into these types and encode it back byte
// for byte, and compare each type's JSON shape with the server's.
//
// The constants are the values of the API's enumerations (statuses,
// scopes, page limits).
package apiv1
