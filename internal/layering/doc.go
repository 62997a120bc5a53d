// Package layering holds no code: its test reads the import graph with
// `go list -deps` and fails when a package reaches below its layer — a
// client (the agent, the API client) into the server's store, API, UI or
// the AWS SDK; a handler package (API, UI), the service layer, content
// validation or the stats into the store's concrete drivers or the AWS SDK.
package layering
