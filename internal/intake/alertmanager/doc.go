// Package alertmanager parses the two Prometheus-ecosystem alert formats into
// normalized events:
//
//   - [Webhook] ("alertmanager"): the Alertmanager webhook receiver payload,
//     version 4 — a notification for one alert group, one event per alert.
//     It also accepts a bare array of alerts (the v2 shape), so a sender
//     pointed at the wrong route still gets through.
//   - [APIv2] ("alertmanager-v2"): the body of Alertmanager's
//     POST /api/v2/alerts, a bare array of postable alerts, which is what
//     Prometheus sends when Flywheel is configured as its Alertmanager.
//
// Both are pure parsers sharing one alert decoder; they differ only in the
// envelope and in what Raw holds. The normalization rules, in one place:
//
//   - Title is the alertname label (the whole label set when absent);
//     Description is the summary annotation, else description, else message.
//     Labels and Annotations are the alert's own, unchanged, so the same alert
//     arriving by either route carries the same labels. The single addition is
//     "alertmanager_truncated_alerts" when a webhook notification says it
//     dropped alerts (truncatedAlerts > 0), so the loss stays visible on the
//     OpsItem.
//   - Severity comes from the severity label, see [severityOf]: critical/page →
//     critical, error/high/major → high, warning/medium → medium, low/minor →
//     low, info/none → info; absent or unknown → medium, because an
//     unclassified alert is neither ignorable nor an outage.
//   - Status is the alert's status; when the payload has none (v2) it is
//     resolved once endsAt is set and not after the injected clock's now,
//     exactly as Alertmanager decides.
//   - OccurredAt is startsAt (the clock's now when absent) and EndsAt is
//     endsAt unless zero ("0001-01-01T00:00:00Z"); both in UTC. On a firing
//     v2 alert endsAt is Prometheus's expiry: when Alertmanager would resolve
//     the alert if it were not re-sent.
//   - Fingerprint is the alert's own fingerprint field when present, else the
//     fingerprint Alertmanager itself would compute (FNV-1a over the sorted
//     label set, 16 hex digits, see [labelsFingerprint]), so an alert sent
//     straight from Prometheus and the same alert relayed by Alertmanager
//     deduplicate together.
//   - SourceID is "<fingerprint>:<startsAt>:<status>": Alertmanager's repeat
//     notifications and Prometheus's periodic re-sends of one occurrence are
//     idempotent, while its resolution (or a new firing with a new startsAt)
//     is a new event. It is empty when the payload has no startsAt, since
//     there is then no upstream identity for the occurrence.
//   - Resources come from labels, see [resourcesOf]: instance_id (EC2), host,
//     hostname, nodename, instance (port stripped; a URL stays a URL), then
//     Kubernetes pod, workload and namespace.
//   - Raw, for the webhook, is the notification exactly as sent with its
//     alerts array narrowed to this one alert: the group context (receiver,
//     groupKey, groupLabels, commonLabels, externalURL, …) is kept, and Raw
//     is itself a valid webhook body that parses back to the same event. For
//     the v2 API Raw is the alert object as sent.
package alertmanager
