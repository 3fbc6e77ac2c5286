package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var githubLogin = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)

// UserMap maps Jira users (account id or email) to GitHub logins
// (COESYNC_USER_MAP_FILE). Emails match case-insensitively.
type UserMap map[string]string

// Login returns the GitHub login of a Jira user, or "".
func (m UserMap) Login(accountID, email string) string {
	if l, ok := m[accountID]; ok && accountID != "" {
		return l
	}
	if email != "" {
		return m[strings.ToLower(email)]
	}
	return ""
}

// LoadUserMap reads a YAML mapping of Jira account id or email to GitHub
// login; an empty path is an empty map.
func LoadUserMap(path string) (UserMap, error) {
	m := UserMap{}
	if path == "" {
		return m, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("COESYNC_USER_MAP_FILE: %w", err)
	}
	return parseUserMap(path, data)
}

func parseUserMap(name string, data []byte) (UserMap, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("COESYNC_USER_MAP_FILE: %s: %v", name, err)
	}
	m := UserMap{}
	if len(doc.Content) == 0 {
		return m, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("COESYNC_USER_MAP_FILE: %s:%d: want a mapping of Jira account id or email to GitHub login", name, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, fmt.Errorf("COESYNC_USER_MAP_FILE: %s:%d: want `jira-user: github-login`", name, k.Line)
		}
		login := strings.TrimPrefix(v.Value, "@")
		if !githubLogin.MatchString(login) {
			// Not quoted: the file may not be a user map at all, and its
			// values may be secrets.
			return nil, fmt.Errorf("COESYNC_USER_MAP_FILE: %s:%d: the value is not a GitHub login (letters, digits and inner hyphens; not shown)", name, v.Line)
		}
		key := k.Value
		if strings.Contains(key, "@") {
			key = strings.ToLower(key)
		}
		m[key] = login
	}
	return m, nil
}
