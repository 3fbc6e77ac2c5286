package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// MaxChangePages bounds the pages (of 100) read per list for one window:
// a list still inside the window after them is reported truncated.
const MaxChangePages = 3

// maxCached bounds the conditional-request cache (entries of one page).
const maxCached = 512

// Changes lists deployments and merged pull requests (engine.ChangeSource).
//
// Cost per repository and window, in the usual case of fewer than 100
// changes a day: GET /repos/{o}/{r} for the default branch, one page of
// /deployments and one of /pulls. Every request is conditional
// (If-None-Match with the ETag of the last answer for the same URL, kept
// in memory): GitHub answers 304 without charging the rate limit when
// nothing changed, which is the rule for the repository itself. The list
// URLs carry no time, so two COEs of the same day reuse each other's pages.
//
// Merged pull requests come from the pulls list (state=closed,
// base=<default branch>, sort=updated, direction=desc), read until a pull
// request updated before the window starts: merging updates a pull
// request, so none merged in the window lies beyond. The search API could
// filter by merge date in one request but has its own rate limit of 30
// requests a minute, lags behind merges and cannot be asked conditionally.
//
// Deployments come from /deployments, which GitHub lists newest first,
// read until one created before the window. A deployment has no web page:
// its link goes to the deployed commit.
type Changes struct {
	c *Client

	mu       sync.Mutex
	cache    map[string]cachedPage // by request URL
	inFlight map[string]*repoCall  // repository reads under way
}

// repoCall is a read of a repository that concurrent callers share: the
// deployments and the pull requests of a repository are listed at once and
// both need it.
type repoCall struct {
	done chan struct{}
	info repoInfo
	err  error
}

type cachedPage struct {
	etag string
	body json.RawMessage
	next int
}

var _ engine.ChangeSource = (*Changes)(nil)

// NewChanges returns the change lister of c.
func NewChanges(c *Client) *Changes {
	return &Changes{c: c, cache: map[string]cachedPage{}, inFlight: map[string]*repoCall{}}
}

// get GETs urlStr into v, conditionally when an answer for it is cached,
// and returns the next page (0 for none).
func (ch *Changes) get(ctx context.Context, urlStr string, v any) (int, error) {
	ch.mu.Lock()
	cached, ok := ch.cache[urlStr]
	ch.mu.Unlock()
	var opts []gh.RequestOption
	if ok {
		opts = append(opts, func(r *http.Request) { r.Header.Set("If-None-Match", cached.etag) })
	}
	req, err := ch.c.api.NewRequest(http.MethodGet, urlStr, nil, opts...)
	if err != nil {
		return 0, ch.c.cause(err)
	}
	var raw json.RawMessage
	resp, err := ch.c.api.Do(ctx, req, &raw)
	if ok && resp != nil && resp.StatusCode == http.StatusNotModified {
		// go-github reports a 304 as an *ErrorResponse.
		return cached.next, json.Unmarshal(cached.body, v)
	}
	if err != nil {
		return 0, ch.c.cause(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return 0, &engine.Error{Kind: engine.Retryable, Service: "github", Status: resp.StatusCode, Msg: "unreadable answer", Err: err}
	}
	if etag := resp.Header.Get("ETag"); etag != "" {
		ch.mu.Lock()
		if len(ch.cache) >= maxCached {
			for k := range ch.cache { // drop any one
				delete(ch.cache, k)
				break
			}
		}
		ch.cache[urlStr] = cachedPage{etag: etag, body: raw, next: resp.NextPage}
		ch.mu.Unlock()
	}
	return resp.NextPage, nil
}

// repoInfo is what the change lists need of a repository.
type repoInfo struct {
	defaultBranch string
	htmlURL       string
}

func (ch *Changes) repo(ctx context.Context, repo string) (repoInfo, error) {
	ch.mu.Lock()
	if c := ch.inFlight[repo]; c != nil {
		ch.mu.Unlock()
		select {
		case <-c.done:
			return c.info, c.err
		case <-ctx.Done():
			return repoInfo{}, ctx.Err()
		}
	}
	c := &repoCall{done: make(chan struct{})}
	ch.inFlight[repo] = c
	ch.mu.Unlock()
	c.info, c.err = ch.readRepo(ctx, repo)
	ch.mu.Lock()
	delete(ch.inFlight, repo)
	ch.mu.Unlock()
	close(c.done)
	return c.info, c.err
}

func (ch *Changes) readRepo(ctx context.Context, repo string) (repoInfo, error) {
	path, err := repoPath(repo)
	if err != nil {
		return repoInfo{}, err
	}
	var r gh.Repository
	if _, err := ch.get(ctx, path, &r); err != nil {
		return repoInfo{}, err
	}
	info := repoInfo{defaultBranch: r.GetDefaultBranch(), htmlURL: r.GetHTMLURL()}
	if info.defaultBranch == "" {
		info.defaultBranch = "main"
	}
	return info, nil
}

// Deployments implements engine.ChangeSource.
func (ch *Changes) Deployments(ctx context.Context, repo string, since, until time.Time) ([]coe.Change, bool, error) {
	path, err := repoPath(repo)
	if err != nil {
		return nil, false, fmt.Errorf("github: list deployments of %s: %w", repo, err)
	}
	info, err := ch.repo(ctx, repo)
	if err != nil {
		return nil, false, fmt.Errorf("github: list deployments of %s: %w", repo, err)
	}
	var out []coe.Change
	for page := 1; ; {
		if page > MaxChangePages {
			return out, true, nil
		}
		var batch []*gh.Deployment
		next, err := ch.get(ctx, fmt.Sprintf("%s/deployments?per_page=%d&page=%d", path, perPage, page), &batch)
		if err != nil {
			return nil, false, fmt.Errorf("github: list deployments of %s: %w", repo, err)
		}
		older := false
		for _, d := range batch {
			if d == nil {
				continue
			}
			at := d.GetCreatedAt().Time.UTC()
			if at.Before(since) {
				older = true
				continue
			}
			if at.After(until) {
				continue
			}
			c := coe.Change{Kind: coe.ChangeDeploy, Repo: repo, Title: d.GetDescription(), Author: d.GetCreator().GetLogin(),
				Ref: d.GetRef(), SHA: d.GetSHA(), Environment: d.GetEnvironment(), At: at}
			if info.htmlURL != "" && validSHA(c.SHA) {
				c.URL = strings.TrimRight(info.htmlURL, "/") + "/commit/" + c.SHA
			}
			out = append(out, c)
		}
		// Newest first: once one is older than the window, all after are.
		if older || next <= page {
			return out, false, nil
		}
		page = next
	}
}

// MergedPulls implements engine.ChangeSource.
func (ch *Changes) MergedPulls(ctx context.Context, repo, base string, since, until time.Time) ([]coe.Change, bool, error) {
	path, err := repoPath(repo)
	if err != nil {
		return nil, false, fmt.Errorf("github: list merged pull requests of %s: %w", repo, err)
	}
	if base == "" {
		info, err := ch.repo(ctx, repo)
		if err != nil {
			return nil, false, fmt.Errorf("github: list merged pull requests of %s: %w", repo, err)
		}
		base = info.defaultBranch
	}
	q := url.Values{}
	q.Set("state", "closed")
	q.Set("base", base)
	q.Set("sort", "updated")
	q.Set("direction", "desc")
	q.Set("per_page", strconv.Itoa(perPage))
	var out []coe.Change
	seen := map[int]bool{}
	for page := 1; ; {
		if page > MaxChangePages {
			coe.SortChanges(out)
			return out, true, nil
		}
		q.Set("page", strconv.Itoa(page))
		var batch []*gh.PullRequest
		next, err := ch.get(ctx, path+"/pulls?"+q.Encode(), &batch)
		if err != nil {
			return nil, false, fmt.Errorf("github: list merged pull requests of %s: %w", repo, err)
		}
		older := false
		for _, p := range batch {
			if p == nil || seen[p.GetNumber()] {
				continue
			}
			seen[p.GetNumber()] = true
			if p.GetUpdatedAt().Time.Before(since) {
				// Sorted by update time: every later one is older still.
				older = true
				break
			}
			if p.MergedAt == nil {
				continue // closed without merging
			}
			at := p.GetMergedAt().Time.UTC()
			if at.Before(since) || at.After(until) {
				continue
			}
			out = append(out, coe.Change{Kind: coe.ChangePR, Repo: repo, Title: p.GetTitle(), URL: p.GetHTMLURL(),
				Author: p.GetUser().GetLogin(), Ref: p.GetBase().GetRef(), SHA: p.GetMergeCommitSHA(),
				Number: p.GetNumber(), At: at})
		}
		if older || next <= page {
			coe.SortChanges(out)
			return out, false, nil
		}
		page = next
	}
}

func validSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
