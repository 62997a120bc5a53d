package notification

import (
	"regexp"
	"strings"
)

// slackMentions are the mentions that page a whole channel or workspace.
var slackMentions = regexp.MustCompile(`(?i)(@)(here|channel|everyone)\b`)

// slackEscaper turns Slack's mrkdwn control characters into the entities
// Slack documents: `<!channel>`, `<!here>`, `<@U123>` and `<url|text>`
// links are shown as typed, not acted on.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackEscape makes text from events (an OpsItem's title, a rule's message
// rendered from an event) inert in a Slack-compatible message: control
// sequences are escaped, and bare @here, @channel and @everyone (which
// Mattermost and Rocket.Chat act on) get a word joiner after the @.
func slackEscape(s string) string {
	return slackMentions.ReplaceAllString(slackEscaper.Replace(s), "$1\u2060$2")
}
