package httpapi

import (
	"html/template"
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/oauth"
)

type authorizeRequest struct {
	App       string `path:"app" json:"-"`
	Name      string `path:"name" json:"-" description:"The account's name"`
	ReturnURL string `json:"returnUrl,omitempty" description:"Where the browser goes once the account is connected; must be on the server's allow-list"`
}

// authorizeDefaultRequest is authorizeRequest for the account named default.
type authorizeDefaultRequest struct {
	App       string `path:"app" json:"-"`
	ReturnURL string `json:"returnUrl,omitempty" description:"Where the browser goes once the account is connected; must be on the server's allow-list"`
}

type authorizeResponse struct {
	AuthorizationURL string             `json:"authorizationUrl,omitempty" description:"Open this URL in a browser to connect the account (authorization code)"`
	ExpiresAt        *time.Time         `json:"expiresAt,omitempty" description:"When the authorization link expires"`
	Account          *oauth.AccountInfo `json:"account,omitempty" description:"The connected account (client credentials connect at once)"`
}

type accountListResponse struct {
	Items []oauth.AccountInfo `json:"items"`
}

type accountPath struct {
	App  string `path:"app"`
	Name string `path:"name"`
}

type redirectQuery struct {
	App   string `path:"app"`
	Code  string `query:"code"`
	State string `query:"state"`
	Error string `query:"error"`
}

func handleAuthorize(m *oauth.Manager, defaultName bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		var req authorizeDefaultRequest
		if err := decode(w, r, MaxSmallBytes, &req); err != nil {
			return err
		}
		name := r.PathValue("name")
		if defaultName {
			name = "default"
		}
		res, err := m.Authorize(r.Context(), p, r.PathValue("app"), name, req.ReturnURL)
		if err != nil {
			return err
		}
		out := authorizeResponse{AuthorizationURL: res.AuthorizationURL, Account: res.Account}
		if !res.ExpiresAt.IsZero() {
			out.ExpiresAt = &res.ExpiresAt
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleAccountList(m *oauth.Manager) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		list, err := m.Accounts(r.Context(), p, r.PathValue("app"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, accountListResponse{Items: list})
		return nil
	}
}

func handleAccountDelete(m *oauth.Manager) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		if err := m.Disconnect(r.Context(), p, r.PathValue("app"), r.PathValue("name")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

var resultPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))

// handleOAuthRedirect is the static redirect URI. It takes no API key: the
// single-use state authenticates it. It answers a small page, or redirects
// to the returnUrl given when authorizing.
func handleOAuthRedirect(m *oauth.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, returnURL, err := m.Callback(r.Context(), r.PathValue("app"), r.URL.Query())
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if err == nil && returnURL != "" {
			http.Redirect(w, r, returnURL, http.StatusFound)
			return
		}
		page := struct{ Title, Message string }{"Account connected",
			"The account is connected. You can close this window."}
		status := http.StatusOK
		if err != nil {
			ri := info(w)
			ri.err = string(switchboard.ErrorCode(err))
			page.Title, page.Message = "The account was not connected", detailOf(err)
			status = switchboard.ErrorCode(err).Status()
			if switchboard.ErrorCode(err) == switchboard.CodeInternal {
				page.Message = "An internal error occurred; the server log has the details under request id " + ri.id + "."
				ri.log.Error("oauth redirect", "request_id", ri.id, "err", err)
			}
		} else if acct != nil {
			page.Message = "The account " + acct.Name + " is connected. You can close this window."
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = resultPage.Execute(w, page)
	})
}

func detailOf(err error) string {
	if e, ok := err.(*switchboard.Error); ok {
		return e.Detail
	}
	return err.Error()
}
