package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/registry"
)

// notices are the confirmations a form's redirect asks for (?done=...):
// fixed texts, so that nothing from the URL is shown.
var notices = map[string]string{
	"installed":    "The app is installed.",
	"uninstalled":  "The app is uninstalled.",
	"settings":     "The settings are saved.",
	"connected":    "The account is connected.",
	"disconnected": "The account is disconnected.",
	"revoked":      "Revoked: it stopped working at once, on every instance.",
	"limits":       "The rate limit is saved.",
	"unlimited":    "The rate limit is removed.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("done")] }

type appRow struct {
	ID, Title, Version, Visibility string
	Installed                      string // the installed version, "" when not installed
	InstalledAt                    time.Time
}

type appsData struct {
	Apps []appRow
}

func (c *Console) appsPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	ctx := r.Context()
	list, err := c.cfg.Registry.Apps(ctx, s.p)
	if err != nil {
		return err
	}
	installed := map[string]registry.InstalledApp{}
	if s.p.OrgID != "" {
		ins, err := c.cfg.Registry.Installed(ctx, s.p)
		if err != nil {
			return err
		}
		for _, in := range ins {
			installed[in.AppID] = in
		}
	}
	var d appsData
	for _, a := range list {
		row := appRow{ID: a.AppID, Title: a.Title, Version: a.Version, Visibility: string(a.Visibility)}
		if in, ok := installed[a.AppID]; ok {
			row.Installed, row.InstalledAt = in.Version, in.InstalledAt
		}
		d.Apps = append(d.Apps, row)
	}
	c.render(w, r, http.StatusOK, "apps", s, view{Title: "Apps", Notice: notice(r), Data: d})
	return nil
}

// definition is what the app page shows of a definition: read for display
// only; registration compiled and checked it.
type definition struct {
	Description string `json:"description"`
	Commands    []struct {
		Name           string   `json:"name"`
		DisplayName    string   `json:"displayName"`
		Description    string   `json:"description"`
		URL            string   `json:"url"`
		HTTPMethod     string   `json:"httpMethod"`
		PermittedArgs  []string `json:"permittedArgs"`
		CacheSeconds   int      `json:"cacheSeconds"`
		AuditLogging   bool     `json:"auditLogging"`
		AppAccountName string   `json:"appAccountName"`
	} `json:"commands"`
	Actions []struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		Description string `json:"description"`
	} `json:"actions"`
	Settings map[string]map[string]settingDecl `json:"settings"`
	Auth     *struct {
		GrantType string   `json:"grantType"`
		Scopes    []string `json:"scopes"`
	} `json:"auth"`
}

type settingDecl struct {
	Type        string `json:"type"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Hidden      bool   `json:"hidden"`
}

type settingRow struct {
	Category, Name, Key, Type, Description string
	Value                                  string // non-secret values, as JSON prints them (strings bare)
	Secret, Set, Missing, Required         bool
}

type versionRow struct {
	Version   string
	CreatedAt time.Time
}

type appData struct {
	ID, Title, Version, Visibility, Description string
	Installed                                   string
	Versions                                    []versionRow
	Def                                         definition
	Settings                                    []settingRow
	Missing                                     []string
	Accounts                                    []oauth.AccountInfo
	OAuth                                       bool
	DefinitionJSON                              string
	Problems                                    []switchboard.Problem // of the last settings form
	// Limits are the rate limits of the app's commands and actions
	// (admin, installed apps).
	Limits []limitRow
}

func (c *Console) appData(r *http.Request, s *signedIn, name string) (*appData, error) {
	ctx := r.Context()
	latest, versions, err := c.cfg.Registry.App(ctx, s.p, name)
	if err != nil {
		return nil, err
	}
	d := &appData{ID: latest.AppID, Title: latest.Title, Version: latest.Version, Visibility: string(latest.Visibility)}
	for _, v := range versions {
		d.Versions = append(d.Versions, versionRow{Version: v.Version, CreatedAt: v.CreatedAt})
	}
	slices.Reverse(d.Versions) // newest first
	shown := latest
	if s.p.OrgID != "" {
		state, err := c.cfg.Registry.Org(ctx, s.p.OrgID)
		if err != nil {
			return nil, err
		}
		if inst := state.App(latest.AppID); inst != nil {
			d.Installed = inst.Version
			if inst.Version != latest.Version {
				if shown, err = c.cfg.Registry.AppVersion(ctx, s.p, latest.AppID, inst.Version); err != nil {
					return nil, err
				}
			}
		}
	}
	_ = json.Unmarshal(shown.Definition, &d.Def)
	d.Description = d.Def.Description
	d.OAuth = d.Def.Auth != nil && c.cfg.OAuth != nil && d.Installed != ""
	if pretty, err := indent(shown.Definition); err == nil {
		d.DefinitionJSON = pretty
	}
	if s.p.Is(members...) {
		if err := c.settingRows(r, s, d); err != nil {
			return nil, err
		}
	}
	if c.cfg.Limits != nil && d.Installed != "" && s.p.Is(admin...) {
		if err := c.appLimitRows(r, s, d); err != nil {
			return nil, err
		}
	}
	if d.OAuth && s.p.Is(admin...) {
		if d.Accounts, err = c.cfg.OAuth.Accounts(ctx, s.p, d.ID); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// settingRows lists the org's settings of the app as the REST API answers
// them (registry.Settings: defaults filled in, secrets write-only), with
// the declarations beside them.
func (c *Console) settingRows(r *http.Request, s *signedIn, d *appData) error {
	doc, err := c.cfg.Registry.Settings(r.Context(), s.p, d.ID)
	if err != nil {
		return err
	}
	missing := map[string]bool{}
	if m, ok := doc.Get("missing"); ok {
		if list, ok := m.([]any); ok {
			for _, k := range list {
				if ks, ok := k.(string); ok {
					missing[ks] = true
					d.Missing = append(d.Missing, ks)
				}
			}
		}
	}
	for _, cat := range doc.Members {
		names, ok := cat.Value.(*jsonv.Object)
		if !ok {
			continue // "missing"
		}
		for _, n := range names.Members {
			decl := d.Def.Settings[cat.Key][n.Key]
			if decl.Hidden {
				continue
			}
			row := settingRow{Category: cat.Key, Name: n.Key, Key: cat.Key + "." + n.Key, Type: decl.Type,
				Description: decl.Description, Required: decl.Required}
			if row.Type == "" {
				row.Type = "string"
			}
			if set, ok := secretStatus(n.Value); ok {
				row.Secret, row.Set, row.Type = true, set, "secret"
				row.Missing = missing[row.Key]
				d.Settings = append(d.Settings, row)
				continue
			}
			switch v := n.Value.(type) {
			case string:
				row.Value, row.Set = v, true
			case nil:
			default:
				b, _ := jsonv.Marshal(v)
				row.Value, row.Set = string(b), true
			}
			row.Missing = missing[row.Key]
			d.Settings = append(d.Settings, row)
		}
	}
	return nil
}

func (c *Console) appPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	d, err := c.appData(r, s, r.PathValue("app"))
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "app", s, view{Title: d.Title, Notice: notice(r), Data: d})
	return nil
}

func appURL(app, done string) string {
	u := "/console/apps/" + url.PathEscape(app)
	if done != "" {
		u += "?done=" + done
	}
	return u
}

func (c *Console) installPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	in, err := c.cfg.Registry.Install(r.Context(), s.p, r.PathValue("app"), r.PostFormValue("version"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, appURL(in.AppID, "installed"), http.StatusSeeOther)
	return nil
}

func (c *Console) uninstallPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	if err := c.cfg.Registry.Uninstall(r.Context(), s.p, r.PathValue("app")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/apps?done=uninstalled", http.StatusSeeOther)
	return nil
}

// settingsPost saves the settings form through registry.PutSettings, the
// same call PUT /v1/apps/{app}/settings makes: an empty field leaves a
// value as it is (a secret is never shown, so its field is always empty),
// and the registry checks each value against its declared type.
func (c *Console) settingsPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	d, err := c.appData(r, s, r.PathValue("app"))
	if err != nil {
		return err
	}
	body := jsonv.NewObject(0)
	for _, row := range d.Settings {
		raw := r.PostFormValue("s:" + row.Key)
		if raw == "" && row.Type != "boolean" {
			continue
		}
		var v any = raw
		switch row.Type {
		case "number":
			if n, err := jsonv.Decode([]byte(raw)); err == nil {
				v = n
			}
		case "boolean":
			if raw == "" {
				continue
			}
			v = raw == "true"
		}
		cat, ok := body.Get(row.Category)
		if !ok {
			cat = jsonv.NewObject(1)
			body.Set(row.Category, cat)
		}
		cat.(*jsonv.Object).Set(row.Name, v)
	}
	if body.Len() > 0 {
		if err := c.cfg.Registry.PutSettings(r.Context(), s.p, d.ID, body); err != nil {
			ev := c.problemOf(w, err)
			if ev.Status >= 500 {
				return err
			}
			c.render(w, r, formStatus, "app", s, view{Title: d.Title, Error: ev, Data: d})
			return nil
		}
	}
	http.Redirect(w, r, appURL(d.ID, "settings")+"#settings", http.StatusSeeOther)
	return nil
}

type connectData struct {
	App, Account, AuthorizationURL, Provider string
	ExpiresAt                                time.Time
}

// connectPost starts connecting an OAuth account (oauth.Authorize, as POST
// /v1/apps/{app}/accounts/{name}/authorize does) and shows a page that
// leads to the provider. It does not redirect there itself: the CSP's
// form-action keeps a form's navigation, redirects included, on this
// origin.
func (c *Console) connectPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	if c.cfg.OAuth == nil {
		return switchboard.Errorf(switchboard.CodeNotFound, "app accounts are not enabled on this server")
	}
	app := r.PathValue("app")
	name := r.PostFormValue("name")
	if name == "" {
		name = "default"
	}
	ret := c.publicURL(r) + "/console/connected?next=" + url.QueryEscape(appURL(app, "connected")+"#accounts")
	res, err := c.cfg.OAuth.Authorize(r.Context(), s.p, app, name, ret)
	if err != nil {
		return err
	}
	if res.Account != nil {
		http.Redirect(w, r, appURL(app, "connected")+"#accounts", http.StatusSeeOther)
		return nil
	}
	d := connectData{App: app, Account: name, AuthorizationURL: res.AuthorizationURL, ExpiresAt: res.ExpiresAt}
	if u, err := url.Parse(res.AuthorizationURL); err == nil {
		d.Provider = u.Host
	}
	c.render(w, r, http.StatusOK, "connect", s, view{Title: "Connect an account", Data: d})
	return nil
}

func (c *Console) disconnectPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	if c.cfg.OAuth == nil {
		return switchboard.Errorf(switchboard.CodeNotFound, "app accounts are not enabled on this server")
	}
	app := r.PathValue("app")
	if err := c.cfg.OAuth.Disconnect(r.Context(), s.p, app, r.PathValue("name")); err != nil {
		return err
	}
	http.Redirect(w, r, appURL(app, "disconnected")+"#accounts", http.StatusSeeOther)
	return nil
}

// indent pretty-prints JSON, keeping its member order and numbers.
func indent(data []byte) (string, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// secretStatus reads the {"secret": true, "set": bool} that stands in for a
// secret's value in registry.Settings (a secret is write-only).
func secretStatus(v any) (set, ok bool) {
	o, isObj := v.(*jsonv.Object)
	if !isObj || o.Len() != 2 {
		return false, false
	}
	secret, _ := o.Get("secret")
	s, isBool := jsonv.Get(o, "set")
	if secret != true || !isBool {
		return false, false
	}
	set, ok = s.(bool)
	return set, ok
}
