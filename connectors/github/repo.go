package github

import (
	"context"
	"fmt"
)

// RepoAccess is what the token may do in a repository.
type RepoAccess struct {
	// FullName is the repository's "owner/name" as GitHub spells it now
	// (after a rename).
	FullName string
	// Push is true when the token may write (create and edit issues).
	Push bool
	// Archived repositories refuse every write.
	Archived bool
	// HasIssues is false when issues are turned off.
	HasIssues bool
}

// RepoAccess reads GET /repos/{owner}/{repo}: its permissions for the
// token, whether it is archived and whether it has issues. A repository
// the token cannot see is a Permanent *engine.Error with Status 404.
func (c *Client) RepoAccess(ctx context.Context, repo string) (RepoAccess, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return RepoAccess{}, fmt.Errorf("github: get repository %s: %w", repo, err)
	}
	r, _, err := c.api.Repositories.Get(ctx, owner, name)
	if err != nil {
		return RepoAccess{}, fmt.Errorf("github: get repository %s: %w", repo, c.cause(err))
	}
	return RepoAccess{FullName: r.GetFullName(), Push: r.GetPermissions()["push"], Archived: r.GetArchived(),
		HasIssues: r.GetHasIssues()}, nil
}

// Viewer returns the login of the token's user (GET /user). An
// installation token has no user: GitHub answers 403, returned as is.
func (c *Client) Viewer(ctx context.Context) (string, error) {
	u, _, err := c.api.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("github: get authenticated user: %w", c.cause(err))
	}
	return u.GetLogin(), nil
}
