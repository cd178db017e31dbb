// Package client is a typed Go client of Switchboard's REST API. The CLI and
// the end-to-end tests use it; so can any Go program.
//
// Every method returns an *Error when the server answered with a problem
// document (its Code is one of the Code constants), and a *ConnError when
// no answer came: nothing listening at the address, a name that does not
// resolve, a connection that broke.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one Switchboard server with one API key.
type Client struct {
	base string
	key  string
	http *http.Client
}

// New returns a client of the server at baseURL (for example
// http://127.0.0.1:8080) using key.
func New(baseURL, key string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, http: hc}
}

// WithKey returns a client of the same server with another key.
func (c *Client) WithKey(key string) *Client {
	cp := *c
	cp.key = key
	return &cp
}

// Problem is one located problem of an Error.
type Problem struct {
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// Error is a problem document the server answered with (RFC 9457). Code is
// one of the Code constants, so that a program can tell the kinds of
// failure apart:
//
//	var ce *client.Error
//	if errors.As(err, &ce) && ce.Code == client.CodeNotFound { ... }
type Error struct {
	Status int       `json:"status"`
	Code   string    `json:"code"`
	Title  string    `json:"title"`
	Detail string    `json:"detail"`
	Errors []Problem `json:"errors"`
	// Raw is the whole document, extension members included.
	Raw json.RawMessage `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, e.Code)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// do sends a request and decodes a 2xx JSON answer into out (unless nil).
// It returns the status.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) (int, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case json.RawMessage:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(data)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &ConnError{Server: c.base, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode, Raw: data}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code = http.StatusText(resp.StatusCode)
			e.Detail = strings.TrimSpace(string(data))
		}
		return resp.StatusCode, e
	}
	if out != nil && len(data) > 0 {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = append((*raw)[:0], data...)
			return resp.StatusCode, nil
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Org is a created org with its first admin key.
type Org struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	AdminKey string `json:"adminKey"`
}

// CreateOrg creates an org (operator key). id and name may be empty.
func (c *Client) CreateOrg(ctx context.Context, id, name string) (*Org, error) {
	var out Org
	_, err := c.do(ctx, "POST", "/v1/orgs", nil, map[string]string{"id": id, "name": name}, &out)
	return &out, err
}

// Key is an API key; Key.Key is set only when it was just created.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Key       string    `json:"key,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

// CreateKey creates a key of the caller's org (admin key).
func (c *Client) CreateKey(ctx context.Context, name, role string) (*Key, error) {
	var out Key
	_, err := c.do(ctx, "POST", "/v1/keys", nil, map[string]string{"name": name, "role": role}, &out)
	return &out, err
}

// Keys lists the org's keys.
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	var out struct{ Items []Key }
	_, err := c.do(ctx, "GET", "/v1/keys", nil, nil, &out)
	return out.Items, err
}

// DeleteKey revokes a key.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, "DELETE", "/v1/keys/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// AppVersion is a registered version of an app.
type AppVersion struct {
	App        string          `json:"app"`
	Version    string          `json:"version"`
	Visibility string          `json:"visibility"`
	Title      string          `json:"title,omitempty"`
	Definition json.RawMessage `json:"definition"`
	Warnings   []Problem       `json:"warnings,omitempty"`
	Versions   []struct {
		Version   string    `json:"version"`
		CreatedAt time.Time `json:"createdAt"`
	} `json:"versions,omitempty"`
	// Created is true when the registration stored a new version (201).
	Created bool `json:"-"`
	// Raw is the answer as the server sent it (set by RegisterApp).
	Raw json.RawMessage `json:"-"`
}

// RegisterApp registers a definition: a private app of the caller's org, or
// with public set (operator key) a public app.
func (c *Client) RegisterApp(ctx context.Context, definition []byte, public bool) (*AppVersion, error) {
	var q url.Values
	if public {
		q = url.Values{"visibility": {"public"}}
	}
	var raw json.RawMessage
	status, err := c.do(ctx, "POST", "/v1/apps/available", q, definition, &raw)
	var out AppVersion
	if err == nil {
		if err = json.Unmarshal(raw, &out); err != nil {
			err = fmt.Errorf("decode POST /v1/apps/available answer: %w", err)
		}
	}
	out.Created = status == http.StatusCreated
	out.Raw = raw
	return &out, err
}

// AppSummary is one app of a listing.
type AppSummary struct {
	App         string    `json:"app"`
	Version     string    `json:"version"`
	Title       string    `json:"title"`
	Visibility  string    `json:"visibility"`
	InstalledAt time.Time `json:"installedAt,omitempty"`
}

// Apps lists the apps the caller can see.
func (c *Client) Apps(ctx context.Context) ([]AppSummary, error) {
	var out struct{ Items []AppSummary }
	_, err := c.do(ctx, "GET", "/v1/apps/available", nil, nil, &out)
	return out.Items, err
}

// App returns the latest version of an app with the list of its versions.
func (c *Client) App(ctx context.Context, app string) (*AppVersion, error) {
	var out AppVersion
	_, err := c.do(ctx, "GET", "/v1/apps/available/"+url.PathEscape(app), nil, nil, &out)
	return &out, err
}

// AppVersion returns one version of an app.
func (c *Client) AppVersion(ctx context.Context, app, version string) (*AppVersion, error) {
	var out AppVersion
	_, err := c.do(ctx, "GET", "/v1/apps/available/"+url.PathEscape(app)+"/versions/"+url.PathEscape(version), nil, nil, &out)
	return &out, err
}

// InstalledApps lists the org's installed apps.
func (c *Client) InstalledApps(ctx context.Context) ([]AppSummary, error) {
	var out struct{ Items []AppSummary }
	_, err := c.do(ctx, "GET", "/v1/apps/installed", nil, nil, &out)
	return out.Items, err
}

// Install installs an app; version "" means the latest.
func (c *Client) Install(ctx context.Context, app, version string) error {
	body := map[string]string{}
	if version != "" {
		body["version"] = version
	}
	_, err := c.do(ctx, "POST", "/v1/apps/"+url.PathEscape(app)+"/install", nil, body, nil)
	return err
}

// Uninstall uninstalls an app.
func (c *Client) Uninstall(ctx context.Context, app string) error {
	_, err := c.do(ctx, "DELETE", "/v1/apps/"+url.PathEscape(app)+"/install", nil, nil, nil)
	return err
}

// Settings is {"<category>": {"<name>": value}}.
type Settings map[string]map[string]any

// UnmarshalJSON decodes a settings document, leaving out its "missing"
// list (see SettingsStatus).
func (s *Settings) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Settings, len(raw))
	for cat, v := range raw {
		if cat == "missing" && len(v) > 0 && v[0] == '[' {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("settings category %q: %w", cat, err)
		}
		out[cat] = m
	}
	*s = out
	return nil
}

// PutSettings sets setting values and returns all settings, secrets redacted.
func (c *Client) PutSettings(ctx context.Context, app string, values Settings) (Settings, error) {
	var out Settings
	_, err := c.do(ctx, "PUT", "/v1/apps/"+url.PathEscape(app)+"/settings", nil, values, &out)
	return out, err
}

// Settings returns an app's settings, secrets redacted.
func (c *Client) Settings(ctx context.Context, app string) (Settings, error) {
	s, _, err := c.SettingsStatus(ctx, app)
	return s, err
}

// SettingsStatus returns an app's settings, secrets redacted, and the
// required settings ("<category>.<name>") that have no value and no
// default, which runs that use them refuse with setting_missing.
func (c *Client) SettingsStatus(ctx context.Context, app string) (Settings, []string, error) {
	var raw json.RawMessage
	if _, err := c.do(ctx, "GET", "/v1/apps/"+url.PathEscape(app)+"/settings", nil, nil, &raw); err != nil {
		return nil, nil, err
	}
	var out Settings
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, nil, err
	}
	var doc struct {
		Missing json.RawMessage `json:"missing"`
	}
	_ = json.Unmarshal(raw, &doc)
	var missing []string
	if len(doc.Missing) > 0 && doc.Missing[0] == '[' {
		_ = json.Unmarshal(doc.Missing, &missing)
	}
	return out, missing, nil
}

// Raw sends any request and returns the answer's body; for routes this
// client does not wrap.
func (c *Client) Raw(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.do(ctx, method, path, nil, body, &out)
	return out, err
}

// RunRequest is a command run's request.
type RunRequest struct {
	Body    any               `json:"body,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Args    map[string]string `json:"args,omitempty"`
}

// RunResult is a command run's answer: the upstream's status, headers and
// body, and how the cache served it (none, miss, hit or stale).
type RunResult struct {
	Status        int               `json:"status"`
	Headers       map[string]string `json:"headers"`
	Body          json.RawMessage   `json:"body"`
	Cache         string            `json:"cache"`
	CacheFallback bool              `json:"cacheFallback,omitempty"`
}

// RunCommand runs a command by any spelling of its name.
func (c *Client) RunCommand(ctx context.Context, name string, req RunRequest) (*RunResult, error) {
	var out RunResult
	_, err := c.do(ctx, "POST", "/v1/commands/"+url.PathEscape(name)+"/run", nil, req, &out)
	return &out, err
}

// Command describes a runnable command.
type Command struct {
	Name       string          `json:"name"`
	App        string          `json:"app"`
	Version    string          `json:"version"`
	Definition json.RawMessage `json:"definition"`
}

// Commands lists the commands of the org's installed apps.
func (c *Client) Commands(ctx context.Context) ([]Command, error) {
	var out struct{ Items []Command }
	_, err := c.do(ctx, "GET", "/v1/commands", nil, nil, &out)
	return out.Items, err
}

// Command returns one command by any spelling of its name.
func (c *Client) Command(ctx context.Context, name string) (*Command, error) {
	var out Command
	_, err := c.do(ctx, "GET", "/v1/commands/"+url.PathEscape(name), nil, nil, &out)
	return &out, err
}

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	ID    string    `json:"id"`
	Time  time.Time `json:"time"`
	Org   string    `json:"org"`
	Actor struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"actor"`
	// Event is "run", or "fallback_on" / "fallback_off": Cache Fallback
	// Mode turning on or off for one of the command's cache keys.
	Event      string            `json:"event"`
	Kind       string            `json:"kind"`
	Command    string            `json:"command"`
	Args       map[string]string `json:"args"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Status     int               `json:"status"`
	DurationMs int64             `json:"durationMs"`
	Cache      string            `json:"cache"`
	Error      string            `json:"error"`
	// UpstreamStatus is the status the upstream answered when a stale
	// response was served instead (0 when it did not answer or was the
	// one served).
	UpstreamStatus int `json:"upstreamStatus,omitempty"`
	// Session is the browser session a run was made with (nil for a run
	// made with a key, whose Actor is then the minting key).
	Session *struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
	} `json:"session,omitempty"`
}

// AuditQuery filters the audit log; every field is optional.
type AuditQuery struct {
	Command      string
	Event        string // "run", "fallback_on" or "fallback_off"
	Since, Until time.Time
	Limit        int
	Cursor       string
}

// AuditLogs returns one page of the audit log, newest first, and the cursor
// of the next page ("" on the last).
func (c *Client) AuditLogs(ctx context.Context, q AuditQuery) ([]AuditEntry, string, error) {
	return auditLogs[AuditEntry](ctx, c, q)
}

// AuditLogsRaw is AuditLogs with each entry as the server wrote it, for
// archives that keep every field, including those this client does not know.
func (c *Client) AuditLogsRaw(ctx context.Context, q AuditQuery) ([]json.RawMessage, string, error) {
	return auditLogs[json.RawMessage](ctx, c, q)
}

func auditLogs[T any](ctx context.Context, c *Client, q AuditQuery) ([]T, string, error) {
	v := url.Values{}
	if q.Command != "" {
		v.Set("command", q.Command)
	}
	if q.Event != "" {
		v.Set("event", q.Event)
	}
	return page[T](ctx, c, "/v1/audit-logs", v, q.Since, q.Until, q.Limit, q.Cursor)
}

// page GETs one page of a cursor-paginated list at path, with the query v
// and the window (since and until unless zero), limit (unless 0) and
// cursor (unless ""); it returns the items and the next page's cursor.
func page[T any](ctx context.Context, c *Client, path string, v url.Values, since, until time.Time, limit int, cursor string) ([]T, string, error) {
	if !since.IsZero() {
		v.Set("since", since.Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		v.Set("until", until.Format(time.RFC3339Nano))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	var out struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"nextCursor"`
	}
	_, err := c.do(ctx, http.MethodGet, path, v, nil, &out)
	return out.Items, out.NextCursor, err
}

// RunAction runs a workflow action and returns its output.
func (c *Client) RunAction(ctx context.Context, name string, input any) (json.RawMessage, error) {
	var out struct {
		Output json.RawMessage `json:"output"`
	}
	_, err := c.do(ctx, "POST", "/v1/actions/"+url.PathEscape(name)+"/run", nil, map[string]any{"input": input}, &out)
	return out.Output, err
}

// Action describes a workflow action.
type Action struct {
	Name                string          `json:"name"`
	App                 string          `json:"app"`
	Version             string          `json:"version"`
	Description         string          `json:"description,omitempty"`
	SampleOutputContext json.RawMessage `json:"sampleOutputContext,omitempty"`
	Definition          json.RawMessage `json:"definition"`
}

// Actions lists the actions of the org's installed apps.
func (c *Client) Actions(ctx context.Context) ([]Action, error) {
	var out struct{ Items []Action }
	_, err := c.do(ctx, "GET", "/v1/actions", nil, nil, &out)
	return out.Items, err
}

// Action returns one action by any spelling of its name.
func (c *Client) Action(ctx context.Context, name string) (*Action, error) {
	var out Action
	_, err := c.do(ctx, "GET", "/v1/actions/"+url.PathEscape(name), nil, nil, &out)
	return &out, err
}

// Account is an OAuth 2.0 app account, as listed: never a token.
type Account struct {
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	Scopes          []string  `json:"scopes"`
	ExpiresAt       time.Time `json:"expiresAt,omitzero"`
	LastRefreshedAt time.Time `json:"lastRefreshedAt,omitzero"`
	ConnectedAt     time.Time `json:"connectedAt,omitzero"`
}

// Authorization is the answer to connecting an account: a URL to open, or
// the account itself when it connected at once (client credentials).
type Authorization struct {
	AuthorizationURL string     `json:"authorizationUrl,omitempty"`
	ExpiresAt        *time.Time `json:"expiresAt,omitempty"`
	Account          *Account   `json:"account,omitempty"`
}

// Authorize starts connecting an app account (admin key).
func (c *Client) Authorize(ctx context.Context, app, name, returnURL string) (*Authorization, error) {
	body := map[string]string{}
	if returnURL != "" {
		body["returnUrl"] = returnURL
	}
	var out Authorization
	_, err := c.do(ctx, "POST", "/v1/apps/"+url.PathEscape(app)+"/accounts/"+url.PathEscape(name)+"/authorize", nil, body, &out)
	return &out, err
}

// Accounts lists an app's accounts.
func (c *Client) Accounts(ctx context.Context, app string) ([]Account, error) {
	var out struct{ Items []Account }
	_, err := c.do(ctx, "GET", "/v1/apps/"+url.PathEscape(app)+"/accounts", nil, nil, &out)
	return out.Items, err
}

// DisconnectAccount removes an app account.
func (c *Client) DisconnectAccount(ctx context.Context, app, name string) error {
	_, err := c.do(ctx, "DELETE", "/v1/apps/"+url.PathEscape(app)+"/accounts/"+url.PathEscape(name), nil, nil, nil)
	return err
}

// ServerVersion is what a server says of its build (GET /v1/version).
type ServerVersion struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	BuildTime string `json:"buildTime,omitempty"`
	GoVersion string `json:"goVersion,omitempty"`
}

// Version asks the server for its version; it needs no key.
func (c *Client) Version(ctx context.Context) (*ServerVersion, error) {
	var out ServerVersion
	_, err := c.do(ctx, "GET", "/v1/version", nil, nil, &out)
	return &out, err
}

// Server returns the base URL the client calls.
func (c *Client) Server() string { return c.base }
