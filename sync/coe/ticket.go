package coe

// Route is what the routing rules decide for an incident.
type Route struct {
	// Rule names the rule that matched ("" for the default route).
	Rule       string
	Skip       bool     // the rule says no COE
	Project    string   // Jira project key
	IssueType  string   // Jira issue type of the COE
	Labels     []string // extra Jira labels
	Components []string // Jira components
	// Priority is the Jira priority name; empty leaves Jira's default.
	Priority string
	// GitHubRepo is "owner/name" for the COE's action items.
	GitHubRepo string
	// ChangeRepos are the "owner/name" repositories of the incident's
	// service (rules file: services[].repos) whose deployments and merged
	// pull requests the COE lists.
	ChangeRepos []string
}

// RemoteLink is a link from a Jira issue to another system. GlobalID makes
// it an upsert: Jira keeps one link per globalId.
type RemoteLink struct {
	GlobalID string
	URL      string
	Title    string
	Summary  string
}

// TicketSpec is everything needed to create a COE ticket.
type TicketSpec struct {
	Project     string
	IssueType   string
	Summary     string
	Description string // Jira wiki markup
	Labels      []string
	Components  []string
	Priority    string
}

// TicketRef identifies a Jira issue.
type TicketRef struct {
	ID  string
	Key string
	URL string // browse URL
}
