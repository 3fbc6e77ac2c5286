package config

import (
	"slices"

	"github.com/coesync/coesync/sync/coe"
)

// Destinations returns every route an incident can take that makes a COE:
// one per rule that does not skip (with the default route filling what the
// rule leaves out), and the default route itself unless a catch-all rule
// comes first. Priority is set to a non-empty marker when the rule maps
// priorities (coesync then sets the Jira priority field). `coesync check`
// verifies each destination's Jira project, issue type and repository.
func (r *Router) Destinations() []coe.Route {
	var out []coe.Route
	reachDefault := true
	if r.rules != nil {
		for i := range r.rules.rules {
			m := &r.rules.rules[i]
			if !m.skip {
				d := r.def
				d.Rule = m.id
				d.Labels, d.Components = slices.Clone(r.def.Labels), slices.Clone(r.def.Components)
				if m.project != "" {
					d.Project = m.project
				}
				if m.issueType != "" {
					d.IssueType = m.issueType
				}
				if m.compsSet {
					d.Components = slices.Clone(m.components)
				}
				if m.repo != "" {
					d.GitHubRepo = m.repo
				}
				d.Priority = "mapped"
				out = append(out, d)
			}
			if m.catchAll() {
				reachDefault = false
				break
			}
		}
	}
	if reachDefault {
		d := r.def
		// The default mapping from PagerDuty priority or urgency sets the
		// Jira priority of most COEs.
		d.Priority = "mapped"
		out = append(out, d)
	}
	return out
}
