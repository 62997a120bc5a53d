package aws

import (
	"context"
	"strings"
	"unicode"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// readMetricFilters sets the region's MetricFilters fact, what CIS AWS
// 4.1–4.15 ask for: every CloudWatch Logs metric filter
// (DescribeMetricFilters) with its metric, the CloudWatch alarms on that
// metric (DescribeAlarms) and how many confirmed SNS subscriptions the
// alarms' topics have (ListSubscriptions). Each filter carries Pattern,
// its FilterPattern with blanks and double quotes taken out, so a rule
// can look for a term however the pattern was spaced or quoted. When any
// of the three calls fails the fact is left out (NOT_APPLICABLE).
func (c *collection) readMetricFilters(ctx context.Context, cfg sdkaws.Config, facts map[string]any) error {
	r := cfg.Region
	var filters []map[string]any
	lp := cloudwatchlogs.NewDescribeMetricFiltersPaginator(cloudwatchlogs.NewFromConfig(cfg), &cloudwatchlogs.DescribeMetricFiltersInput{})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			c.fail(TypeAccount, r, "DescribeMetricFilters", err)
			return nil
		}
		for _, f := range page.MetricFilters {
			m, err := toMap(f)
			if err != nil {
				return err
			}
			m["Pattern"] = compactPattern(sdkaws.ToString(f.FilterPattern))
			filters = append(filters, m)
		}
	}
	type metric struct{ namespace, name string }
	alarms := map[metric][]string{} // metric → alarm names
	topics := map[metric][]string{} // metric → the alarms' actions
	ap := cloudwatch.NewDescribeAlarmsPaginator(cloudwatch.NewFromConfig(cfg), &cloudwatch.DescribeAlarmsInput{})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			c.fail(TypeAccount, r, "DescribeAlarms", err)
			return nil
		}
		for _, a := range page.MetricAlarms {
			k := metric{sdkaws.ToString(a.Namespace), sdkaws.ToString(a.MetricName)}
			alarms[k] = append(alarms[k], sdkaws.ToString(a.AlarmName))
			topics[k] = append(topics[k], a.AlarmActions...)
		}
	}
	subscribers := map[string]int{} // topic ARN → confirmed subscriptions
	sp := sns.NewListSubscriptionsPaginator(sns.NewFromConfig(cfg), &sns.ListSubscriptionsInput{})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			c.fail(TypeAccount, r, "ListSubscriptions", err)
			return nil
		}
		for _, s := range page.Subscriptions {
			if arn := sdkaws.ToString(s.SubscriptionArn); strings.HasPrefix(arn, "arn:") { // not PendingConfirmation
				subscribers[sdkaws.ToString(s.TopicArn)]++
			}
		}
	}
	for _, f := range filters {
		names, subs := []string{}, 0
		ts, _ := f["MetricTransformations"].([]any)
		for _, t := range ts {
			tm, _ := t.(map[string]any)
			ns, _ := tm["MetricNamespace"].(string)
			name, _ := tm["MetricName"].(string)
			k := metric{ns, name}
			names = append(names, alarms[k]...)
			for _, topic := range topics[k] {
				subs += subscribers[topic]
			}
		}
		f["Alarms"] = names
		f["Subscribers"] = subs
	}
	if filters == nil {
		filters = []map[string]any{}
	}
	facts["MetricFilters"] = filters
	return nil
}

// compactPattern is a filter pattern without blanks and double quotes:
// `{ ($.eventName = "ConsoleLogin") }` becomes `{($.eventName=ConsoleLogin)}`.
func compactPattern(p string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '"' {
			return -1
		}
		return r
	}, p)
}
