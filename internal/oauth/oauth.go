// Package oauth connects and keeps OAuth 2.0 app accounts (SPEC 8): the
// authorization code flow with PKCE and a single-use state, client
// credentials, token refresh before expiry with one refresh however many
// runs wait for it (across instances too, through the store's row lock),
// rotation of refresh tokens, and revocation. Tokens are encrypted at rest
// and never leave the server except towards the upstream a definition names.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Config holds a Manager's dependencies.
type Config struct {
	Registry *registry.Registry
	Store    switchboard.AccountStore
	Box      *secretbox.Box
	Outbound *outbound.Client
	Log      *slog.Logger
	Now      func() time.Time
	// PublicURL is the server's address as browsers reach it, for the
	// redirect URI (http://127.0.0.1:8080 in development).
	PublicURL string
	// ReturnURLs are the prefixes a returnUrl may start with; others are
	// refused.
	ReturnURLs []string
}

// Manager is safe for concurrent use.
type Manager struct {
	cfg    Config
	now    func() time.Time
	flight singleflight.Group
	// tokens caches decrypted access tokens by account, dropped when the
	// account changes anywhere.
	tokens sync.Map // accountKey -> *cached
}

type cached struct {
	access  string
	expires time.Time // zero: does not expire
}

// StateTTL is how long an authorization may take.
const StateTTL = 10 * time.Minute

// refreshBefore is how long before expiry a token is refreshed.
const refreshBefore = 60 * time.Second

// New returns a Manager and subscribes it to the registry's changes.
func New(cfg Config) *Manager {
	m := &Manager{cfg: cfg, now: cfg.Now}
	if m.now == nil {
		m.now = time.Now
	}
	if m.cfg.Log == nil {
		m.cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Registry.OnChange(func(c switchboard.Change) {
		if c.Kind == switchboard.ChangeAccounts {
			prefix := c.OrgID + "\x00" + c.Ref + "\x00"
			m.tokens.Range(func(k, _ any) bool {
				if strings.HasPrefix(k.(string), prefix) {
					m.tokens.Delete(k)
				}
				return true
			})
		}
	})
	return m
}

// RedirectPath is the static redirect URI's path for an app.
func RedirectPath(appID string) string {
	return "/v1/apps/" + url.PathEscape(appID) + "/authorize/oauth2/redirect"
}

func accountKey(orgID, appID, name string) string { return orgID + "\x00" + appID + "\x00" + name }

// client builds the OAuth 2.0 client of an installed app from the org's
// settings.
func (m *Manager) client(inst *registry.Installed) (*oauth2.Config, *appdef.Auth, error) {
	a := inst.App.Auth
	if a == nil {
		return nil, nil, switchboard.Errorf(switchboard.CodeInvalidInput, "app %s declares no OAuth 2.0 client (no auth in its definition)", inst.AppID)
	}
	id, secret := settingString(inst.Values[a.ClientID.Key()]), settingString(inst.Values[a.ClientSecret.Key()])
	if id == "" || secret == "" {
		return nil, nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: fmt.Sprintf("set the app's client id and secret first: PUT /v1/apps/%s/settings with %s and %s", inst.AppID, a.ClientID.Key(), a.ClientSecret.Key())}
	}
	return &oauth2.Config{
		ClientID: id, ClientSecret: secret, Scopes: a.Scopes,
		Endpoint:    oauth2.Endpoint{AuthURL: a.AuthorizationURL, TokenURL: a.TokenURL},
		RedirectURL: strings.TrimRight(m.cfg.PublicURL, "/") + RedirectPath(inst.AppID),
	}, a, nil
}

func settingString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case tmpl.Opaque:
		return string(x)
	}
	return ""
}

// httpContext routes the oauth2 library's calls through the guarded
// outbound client.
func (m *Manager) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.cfg.Outbound.HTTPClient())
}

// installed finds an app that p's org can use and has installed.
func (m *Manager) installed(ctx context.Context, orgID, appName string) (*registry.Installed, error) {
	state, err := m.cfg.Registry.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, id := range []string{appdef.Namespace(appdef.Bare(appName, orgID), orgID), appName} {
		if inst := state.App(id); inst != nil {
			return inst, nil
		}
	}
	return nil, switchboard.Errorf(switchboard.CodeNotFound, "app %q is not installed for your org; install it with POST /v1/apps/%s/install", appName, appName)
}

// Authorized is the answer to an authorization request.
type Authorized struct {
	// AuthorizationURL is where to send the browser (authorization code).
	AuthorizationURL string
	ExpiresAt        time.Time
	// Account is set when the account was connected at once (client
	// credentials).
	Account *AccountInfo
}

// Authorize starts connecting an account: with authorization_code it
// returns the provider's URL carrying a random single-use state bound to
// the org, app and account, and a PKCE S256 challenge; with
// client_credentials it fetches the token at once.
func (m *Manager) Authorize(ctx context.Context, p *switchboard.Principal, appName, name, returnURL string) (*Authorized, error) {
	if !appdef.ValidName(name) {
		return nil, switchboard.Errorf(switchboard.CodeInvalidInput, "an account name is 1 to 128 of letters, digits, '_' and '-'; got %q", name)
	}
	if returnURL != "" && !m.returnAllowed(returnURL) {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail:   "returnUrl is not on the server's allow-list (--oauth-return-urls)",
			Problems: []switchboard.Problem{{Location: "/returnUrl", Message: "not an allowed return URL"}}}
	}
	inst, err := m.installed(ctx, p.OrgID, appName)
	if err != nil {
		return nil, err
	}
	conf, a, err := m.client(inst)
	if err != nil {
		return nil, err
	}
	if a.GrantType == "client_credentials" {
		info, err := m.connectClientCredentials(ctx, inst, conf, name)
		if err != nil {
			return nil, err
		}
		return &Authorized{Account: info}, nil
	}
	state := randomToken()
	verifier := oauth2.GenerateVerifier()
	expires := m.now().Add(StateTTL)
	st := switchboard.OAuthState{Hash: hashState(state), OrgID: p.OrgID, AppID: inst.AppID, Account: name,
		Verifier: m.cfg.Box.Seal([]byte(verifier), []byte("oauth-state\x00"+hashState(state))), ReturnURL: returnURL, ExpiresAt: expires}
	if err := m.cfg.Store.CreateOAuthState(ctx, st); err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline}
	for k, v := range a.ExtraAuthorizeParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return &Authorized{AuthorizationURL: conf.AuthCodeURL(state, opts...), ExpiresAt: expires}, nil
}

func (m *Manager) returnAllowed(u string) bool {
	for _, prefix := range m.cfg.ReturnURLs {
		if prefix != "" && strings.HasPrefix(u, prefix) {
			return true
		}
	}
	return false
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashState is how a state is stored: whoever reads the table cannot use a
// pending state.
func hashState(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:])
}

// errBadState refuses a tampered, replayed, expired or foreign state.
var errBadState = &switchboard.Error{Code: switchboard.CodeInvalidInput,
	Detail: "this authorization link is not valid: it was used already, it expired (links last 10 minutes), or it was altered; start again from the app's settings"}

// Callback completes an authorization code flow from the provider's
// redirect: it takes the state (once), exchanges the code with the PKCE
// verifier and stores the tokens. It returns the account and the returnUrl
// given when authorizing.
func (m *Manager) Callback(ctx context.Context, appID string, q url.Values) (*AccountInfo, string, error) {
	state := q.Get("state")
	if state == "" {
		return nil, "", errBadState
	}
	st, err := m.cfg.Store.TakeOAuthState(ctx, hashState(state))
	if err != nil {
		if switchboard.IsNotFound(err) {
			return nil, "", errBadState
		}
		return nil, "", err
	}
	if !m.now().Before(st.ExpiresAt) || st.AppID != appID {
		return nil, "", errBadState
	}
	if e := q.Get("error"); e != "" {
		return nil, st.ReturnURL, &switchboard.Error{Code: switchboard.CodeForbidden,
			Detail: fmt.Sprintf("the provider did not authorize the account: %s %s", e, q.Get("error_description"))}
	}
	verifier, err := m.cfg.Box.Open(st.Verifier, []byte("oauth-state\x00"+st.Hash))
	if err != nil {
		return nil, "", errBadState
	}
	inst, err := m.installed(ctx, st.OrgID, st.AppID)
	if err != nil {
		return nil, "", err
	}
	conf, _, err := m.client(inst)
	if err != nil {
		return nil, "", err
	}
	tok, err := conf.Exchange(m.httpContext(ctx), q.Get("code"), oauth2.VerifierOption(string(verifier)))
	if err != nil {
		return nil, st.ReturnURL, tokenError("exchange the authorization code", err)
	}
	info, err := m.save(ctx, st.OrgID, inst, st.Account, tok)
	return info, st.ReturnURL, err
}

func (m *Manager) connectClientCredentials(ctx context.Context, inst *registry.Installed, conf *oauth2.Config, name string) (*AccountInfo, error) {
	tok, err := clientCredentials(conf).Token(m.httpContext(ctx))
	if err != nil {
		return nil, tokenError("fetch a client credentials token", err)
	}
	return m.save(ctx, inst.OrgID, inst, name, tok)
}

func clientCredentials(conf *oauth2.Config) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: conf.ClientID, ClientSecret: conf.ClientSecret, TokenURL: conf.Endpoint.TokenURL, Scopes: conf.Scopes}
}

// save stores a freshly obtained token as a connected account.
func (m *Manager) save(ctx context.Context, orgID string, inst *registry.Installed, name string, tok *oauth2.Token) (*AccountInfo, error) {
	now := m.now().UTC()
	a := switchboard.Account{OrgID: orgID, AppID: inst.AppID, Name: name, Status: switchboard.AccountConnected,
		Scopes: grantedScopes(tok, inst.App.Auth.Scopes), TokenType: tok.Type(), ExpiresAt: m.expiry(tok),
		LastRefreshedAt: now, ConnectedAt: now, UpdatedAt: now}
	a.AccessToken = m.cfg.Box.Seal([]byte(tok.AccessToken), switchboard.TokenAAD(orgID, inst.AppID, name, "access"))
	if tok.RefreshToken != "" {
		a.RefreshToken = m.cfg.Box.Seal([]byte(tok.RefreshToken), switchboard.TokenAAD(orgID, inst.AppID, name, "refresh"))
	}
	if err := m.cfg.Store.PutAccount(ctx, a); err != nil {
		return nil, err
	}
	if err := m.cfg.Registry.Sync(ctx); err != nil {
		return nil, err
	}
	info := accountInfo(a)
	return &info, nil
}

// expiry converts the library's expiry (computed on the real clock) to this
// manager's clock.
func (m *Manager) expiry(tok *oauth2.Token) time.Time {
	if tok.Expiry.IsZero() {
		return time.Time{}
	}
	return m.now().UTC().Add(time.Until(tok.Expiry)).Truncate(time.Microsecond)
}

func grantedScopes(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return asked
}

// tokenError turns a failed call to the token endpoint into a problem.
func tokenError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return &switchboard.Error{Code: switchboard.CodeUpstreamError,
			Detail: fmt.Sprintf("could not %s: the provider answered %s %s", what, re.ErrorCode, re.ErrorDescription), Err: err}
	}
	var se *switchboard.Error
	if errors.As(err, &se) {
		return se
	}
	return &switchboard.Error{Code: switchboard.CodeUpstreamUnreachable, Detail: fmt.Sprintf("could not %s: the token endpoint did not answer", what), Err: err}
}

// AccountInfo is what may be shown of an account: never a token.
type AccountInfo struct {
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	Scopes          []string  `json:"scopes"`
	ExpiresAt       time.Time `json:"expiresAt,omitzero"`
	LastRefreshedAt time.Time `json:"lastRefreshedAt,omitzero"`
	ConnectedAt     time.Time `json:"connectedAt,omitzero"`
}

func accountInfo(a switchboard.Account) AccountInfo {
	scopes := a.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return AccountInfo{Name: a.Name, Status: a.Status, Scopes: scopes, ExpiresAt: a.ExpiresAt, LastRefreshedAt: a.LastRefreshedAt, ConnectedAt: a.ConnectedAt}
}

// Accounts lists the accounts of an app for p's org.
func (m *Manager) Accounts(ctx context.Context, p *switchboard.Principal, appName string) ([]AccountInfo, error) {
	inst, err := m.installed(ctx, p.OrgID, appName)
	if err != nil {
		return nil, err
	}
	list, err := m.cfg.Store.Accounts(ctx, p.OrgID, inst.AppID)
	if err != nil {
		return nil, err
	}
	out := make([]AccountInfo, 0, len(list))
	for _, a := range list {
		out = append(out, accountInfo(a))
	}
	return out, nil
}

// Disconnect removes an account, revoking its tokens at the provider first
// when the definition gives a revocationUrl (a failed revocation is logged,
// and the account is removed all the same).
func (m *Manager) Disconnect(ctx context.Context, p *switchboard.Principal, appName, name string) error {
	inst, err := m.installed(ctx, p.OrgID, appName)
	if err != nil {
		return err
	}
	a, err := m.cfg.Store.Account(ctx, p.OrgID, inst.AppID, name)
	if err != nil {
		if switchboard.IsNotFound(err) {
			return switchboard.Errorf(switchboard.CodeNotFound, "account %q of %s not found; GET /v1/apps/%s/accounts lists its accounts", name, inst.AppID, inst.AppID)
		}
		return err
	}
	if auth := inst.App.Auth; auth != nil && auth.RevocationURL != "" {
		if err := m.revoke(ctx, inst, a); err != nil {
			m.cfg.Log.Warn("revoke an app account's token", "app", inst.AppID, "account", name, "err", err)
		}
	}
	if err := m.cfg.Store.DeleteAccount(ctx, p.OrgID, inst.AppID, name); err != nil {
		return err
	}
	m.tokens.Delete(accountKey(p.OrgID, inst.AppID, name))
	return m.cfg.Registry.Sync(ctx)
}

// revoke sends RFC 7009 revocations: the refresh token (which revokes its
// access tokens at most providers), else the access token.
func (m *Manager) revoke(ctx context.Context, inst *registry.Installed, a switchboard.Account) error {
	conf, auth, err := m.client(inst)
	if err != nil {
		return err
	}
	token, hint := a.RefreshToken, "refresh_token"
	kind := "refresh"
	if len(token) == 0 {
		token, hint, kind = a.AccessToken, "access_token", "access"
	}
	plain, err := m.cfg.Box.Open(token, switchboard.TokenAAD(a.OrgID, a.AppID, a.Name, kind))
	if err != nil {
		return err
	}
	u, err := url.Parse(auth.RevocationURL)
	if err != nil {
		return err
	}
	form := url.Values{"token": {string(plain)}, "token_type_hint": {hint}}
	resp, err := m.cfg.Outbound.Do(ctx, &outbound.Request{Method: "POST", URL: u,
		Header: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"},
			"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(conf.ClientID)+":"+url.QueryEscape(conf.ClientSecret)))}},
		Body: []byte(form.Encode())})
	if err != nil {
		return err
	}
	if resp.Status >= 300 {
		return fmt.Errorf("the revocation endpoint answered %d", resp.Status)
	}
	return nil
}

// Disconnected is the problem of a run whose account must be connected
// again.
func Disconnected(appID, name, why string) error {
	return &switchboard.Error{Code: switchboard.CodeAccountDisconnected,
		Detail: fmt.Sprintf("the app account %q of %s %s: an admin connects it again with `switchboard accounts connect %s %s` (POST /v1/apps/%s/accounts/%s/authorize)",
			name, appID, why, appID, name, appID, name)}
}

// Token returns a current access token of an account, refreshing it when it
// expires within a minute. However many runs ask at once, one refresh is
// made: one per instance through single flight, one across instances
// through the store's lock on the account, after which the others find the
// new token.
func (m *Manager) Token(ctx context.Context, inst *registry.Installed, name string) (string, error) {
	key := accountKey(inst.OrgID, inst.AppID, name)
	if c, ok := m.tokens.Load(key); ok {
		ct := c.(*cached)
		if ct.expires.IsZero() || m.now().Before(ct.expires.Add(-refreshBefore)) {
			return ct.access, nil
		}
	}
	return m.refresh(ctx, inst, name, "")
}

// Refresh gets a new access token after an upstream refused failed with a
// 401; when another run refreshed meanwhile, its token is returned instead.
func (m *Manager) Refresh(ctx context.Context, inst *registry.Installed, name, failed string) (string, error) {
	m.tokens.Delete(accountKey(inst.OrgID, inst.AppID, name))
	return m.refresh(ctx, inst, name, failed)
}

func (m *Manager) refresh(ctx context.Context, inst *registry.Installed, name, failed string) (string, error) {
	key := accountKey(inst.OrgID, inst.AppID, name)
	v, err, _ := m.flight.Do(key+"\x00"+failed, func() (any, error) {
		disconnected := ""
		a, err := m.cfg.Store.UpdateAccount(context.WithoutCancel(ctx), inst.OrgID, inst.AppID, name, func(a *switchboard.Account) (bool, error) {
			if a.Status != switchboard.AccountConnected {
				disconnected = "needs to be authorized again"
				return false, nil
			}
			current, err := m.cfg.Box.Open(a.AccessToken, switchboard.TokenAAD(a.OrgID, a.AppID, a.Name, "access"))
			if err != nil {
				return false, switchboard.Internal(fmt.Errorf("decrypt the access token of %s/%s: %w", a.AppID, a.Name, err))
			}
			fresh := a.ExpiresAt.IsZero() || m.now().Before(a.ExpiresAt.Add(-refreshBefore))
			if fresh && (failed == "" || string(current) != failed) {
				return false, nil // valid, or already refreshed by another run
			}
			tok, err := m.fetchNew(ctx, inst, a)
			var re *oauth2.RetrieveError
			if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client") {
				a.Status = switchboard.AccountNeedsReauthorization
				a.UpdatedAt = m.now().UTC()
				disconnected = "was refused by the provider (" + re.ErrorCode + ") and needs to be authorized again"
				return true, nil
			}
			if err != nil {
				return false, err
			}
			now := m.now().UTC()
			a.AccessToken = m.cfg.Box.Seal([]byte(tok.AccessToken), switchboard.TokenAAD(a.OrgID, a.AppID, a.Name, "access"))
			if tok.RefreshToken != "" {
				// A rotated refresh token is saved in the same write as the
				// access token it came with, before either is used.
				a.RefreshToken = m.cfg.Box.Seal([]byte(tok.RefreshToken), switchboard.TokenAAD(a.OrgID, a.AppID, a.Name, "refresh"))
			}
			a.ExpiresAt, a.TokenType, a.LastRefreshedAt, a.UpdatedAt = m.expiry(tok), tok.Type(), now, now
			return true, nil
		})
		if err != nil {
			if switchboard.IsNotFound(err) {
				return nil, Disconnected(inst.AppID, name, "is not connected")
			}
			return nil, err
		}
		if disconnected != "" {
			return nil, Disconnected(inst.AppID, name, disconnected)
		}
		access, err := m.cfg.Box.Open(a.AccessToken, switchboard.TokenAAD(a.OrgID, a.AppID, a.Name, "access"))
		if err != nil {
			return nil, switchboard.Internal(err)
		}
		m.tokens.Store(key, &cached{access: string(access), expires: a.ExpiresAt})
		return string(access), nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// fetchNew asks the provider for a new token: with the refresh token, or by
// client credentials when the grant is that or there is no refresh token.
func (m *Manager) fetchNew(ctx context.Context, inst *registry.Installed, a *switchboard.Account) (*oauth2.Token, error) {
	conf, auth, err := m.client(inst)
	if err != nil {
		return nil, err
	}
	hctx := m.httpContext(context.WithoutCancel(ctx))
	if auth.GrantType == "client_credentials" {
		tok, err := clientCredentials(conf).Token(hctx)
		return tok, wrapRefresh(err)
	}
	if len(a.RefreshToken) == 0 {
		return nil, &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "no refresh token"}
	}
	rt, err := m.cfg.Box.Open(a.RefreshToken, switchboard.TokenAAD(a.OrgID, a.AppID, a.Name, "refresh"))
	if err != nil {
		return nil, switchboard.Internal(err)
	}
	tok, err := conf.TokenSource(hctx, &oauth2.Token{RefreshToken: string(rt), Expiry: time.Unix(1, 0)}).Token()
	return tok, wrapRefresh(err)
}

func wrapRefresh(err error) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
			return re
		}
	}
	return tokenError("refresh the access token", err)
}
