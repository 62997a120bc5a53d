// Package generic is the intake adapter for everything without an adapter of
// its own: Flywheel's documented generic JSON alert, and any other JSON shape
// through user-defined CEL mappings.
//
// # The documented format
//
// One object, or an array of them:
//
//	{
//	  "source": "uptime-checker",               // optional; Source "generic:<source>"
//	  "title": "HTTPS check failing",            // required
//	  "severity": "critical",                   // critical|high|medium|low|info or a common word; default medium
//	  "status": "firing",                       // firing|resolved; default firing
//	  "resource": "https://status.example.com", // optional; type inferred unless resource_type is set
//	  "resource_type": "url",                   // optional
//	  "labels": {"env": "prod"},                // optional, string values
//	  "description": "…",                       // optional
//	  "timestamp": "2026-03-11T06:42:19Z",      // optional RFC 3339; default now
//	  "kind": "alert",                          // optional: alert|finding|change|compliance|health
//	  "id": "chk_7f3a91-1741675339",            // optional upstream id: re-delivery is idempotent
//	  "fingerprint": "chk_7f3a91"               // optional dedup key
//	}
//
// Unknown fields are not an error of the sender's alert but a sign the body is
// some other format: Parse then tries the mappings, and reports the unknown
// field only when none matches. Without a fingerprint, the fingerprint is a
// hash of source, title, resource and labels (never status, so the resolution
// matches the alert). The resource type is inferred: a URL is "url", "i-…"
// "ec2-instance", "vol-…" "ebs-volume", "sg-…" "security-group", an ARN its
// AWS type (s3-bucket, ec2-instance, … with region and account), anything
// else "host" with any port stripped.
//
// # Mappings
//
// A [Mapping] turns another JSON shape into an event with CEL expressions over
// the variable body (the decoded JSON). Expressions are compiled once, by
// [New]; each evaluation is bounded by a cost limit and the request context.
// Parse picks the first mapping whose match expression is true (a mapping
// without one matches everything); ParseWith names the mapping. A mapping's
// events have Source "generic:<mapping name>" and the whole body as Raw.
package generic
