// Package layering holds no code: its test reads the import graph with
// `go list -deps` and fails when a package reaches below its layer — a
// client (the agent, the API client, the command line's client commands,
// the API's wire types apiv1) into the server's store, API, UI, app or the
// AWS SDK; a handler package (API, UI), the service layer, content
// validation or the stats into the store's concrete drivers or the AWS SDK.
package layering
