package appdef

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Auth is a declared OAuth 2.0 client.
type Auth struct {
	Type                 string
	GrantType            string
	AuthorizationURL     string
	TokenURL             string
	RevocationURL        string
	Scopes               []string
	ClientID             SettingRef
	ClientSecret         SettingRef
	ExtraAuthorizeParams map[string]string
	// RefreshOn lists the upstream statuses that make a run refresh the
	// account's token once and retry once (SPEC 13; [401] when not given:
	// some providers answer 403 for an expired token).
	RefreshOn []int
}

// Refreshes reports whether an upstream status calls for a refresh and one
// retry.
func (a *Auth) Refreshes(status int) bool {
	if a == nil {
		return false
	}
	for _, s := range a.RefreshOn {
		if s == status {
			return true
		}
	}
	return false
}

func (c *compiler) auth(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "auth must be an object declaring an OAuth 2.0 client, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, []string{"type", "grantType", "authorizationUrl", "tokenUrl", "revocationUrl", "scopes",
		"clientId", "clientSecret", "extraAuthorizeParams", "refreshOn"}, "auth")
	a := &Auth{ExtraAuthorizeParams: map[string]string{}, RefreshOn: c.refreshOn(obj, ptr)}
	if t, ok := c.str(obj, "type", ptr, true); ok {
		if t != "oauth2" {
			c.fail(Pointer(ptr, "type"), "type must be oauth2; got %q", t)
		}
		a.Type = t
	}
	if g, ok := c.str(obj, "grantType", ptr, true); ok {
		if g != "authorization_code" && g != "client_credentials" {
			c.fail(Pointer(ptr, "grantType"), "grantType must be authorization_code or client_credentials; got %q", g)
		}
		a.GrantType = g
	}
	absURL := func(key string, required bool) string {
		s, ok := c.str(obj, key, ptr, required)
		if !ok {
			return ""
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.fail(Pointer(ptr, key), "%s must be an absolute http or https URL; got %q", key, s)
			return ""
		}
		return s
	}
	a.AuthorizationURL = absURL("authorizationUrl", a.GrantType == "authorization_code")
	a.TokenURL = absURL("tokenUrl", true)
	a.RevocationURL = absURL("revocationUrl", false)
	a.Scopes = c.stringList(obj, "scopes", ptr)
	if v, ok := obj.Get("clientId"); ok {
		a.ClientID, _ = c.settingRef(v, Pointer(ptr, "clientId"))
	} else {
		c.fail(Pointer(ptr, "clientId"), "clientId is required: a setting reference such as {\"key\": \"%s.default.clientId\"}", c.app.BareID)
	}
	if v, ok := obj.Get("clientSecret"); ok {
		a.ClientSecret, _ = c.settingRef(v, Pointer(ptr, "clientSecret"))
	} else {
		c.fail(Pointer(ptr, "clientSecret"), "clientSecret is required: a setting reference such as {\"key\": \"%s.default.clientSecret\"}", c.app.BareID)
	}
	if v, ok := obj.Get("extraAuthorizeParams"); ok {
		m, isObj := v.(*jsonv.Object)
		if !isObj {
			c.fail(Pointer(ptr, "extraAuthorizeParams"), "extraAuthorizeParams must be an object of strings, not %s", typeName(v))
		} else {
			for _, mm := range m.Members {
				s, isStr := mm.Value.(string)
				if !isStr {
					c.fail(Pointer(Pointer(ptr, "extraAuthorizeParams"), mm.Key), "must be a string, not %s", typeName(mm.Value))
					continue
				}
				a.ExtraAuthorizeParams[mm.Key] = s
			}
		}
	}
	c.app.Auth = a
}

func (c *compiler) accountName(obj *jsonv.Object, ptr string) string {
	name, ok := c.str(obj, "appAccountName", ptr, false)
	if !ok {
		return ""
	}
	if c.app.Auth == nil {
		c.fail(Pointer(ptr, "appAccountName"), "appAccountName names an OAuth 2.0 app account, but the definition declares no auth client; add a top-level auth property")
		return ""
	}
	if !settingNamePattern.MatchString(name) {
		c.fail(Pointer(ptr, "appAccountName"), "appAccountName must be 1 to 128 of letters, digits, '_' and '-'; got %q", name)
		return ""
	}
	return name
}

// refreshOn reads auth.refreshOn: a non-empty array of distinct HTTP
// statuses from 400 to 599 ([401] when absent).
func (c *compiler) refreshOn(obj *jsonv.Object, ptr string) []int {
	v, ok := obj.Get("refreshOn")
	if !ok {
		return []int{http.StatusUnauthorized}
	}
	ptr = Pointer(ptr, "refreshOn")
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		c.fail(ptr, "refreshOn must be a non-empty array of the upstream statuses that mean an expired token, such as [401, 403]; got %s", display(v))
		return nil
	}
	var out []int
	for i, e := range arr {
		n, isNum := e.(json.Number)
		s, err := strconv.Atoi(string(n))
		if !isNum || err != nil || s < 400 || s > 599 {
			c.fail(Pointer(ptr, i), "each status in refreshOn must be an integer from 400 to 599, such as 401 or 403; got %s", display(e))
			continue
		}
		if slices.Contains(out, s) {
			c.fail(Pointer(ptr, i), "%d is listed twice in refreshOn", s)
			continue
		}
		out = append(out, s)
	}
	return out
}
