package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
)

type appRegisterRequest struct {
	Visibility string `query:"visibility" enum:"private,public" description:"public (operator key only) registers a public app; the default registers a private app of the caller's org, namespaced with its id"`
}

type appPath struct {
	App string `path:"app" description:"The app id, bare (my_app) or namespaced (my_app_<org>)"`
}

type appVersionPath struct {
	App     string `path:"app"`
	Version string `path:"version"`
}

type appVersionResponse struct {
	App        string                 `json:"app" description:"The stored app id: namespaced for private apps"`
	Version    string                 `json:"version"`
	Visibility switchboard.Visibility `json:"visibility" enum:"private,public"`
	Definition json.RawMessage        `json:"definition" description:"The canonical definition: names namespaced and in their kustomer.app.<app>.<name> form"`
	Warnings   []switchboard.Problem  `json:"warnings,omitempty" description:"What will not stop the definition from working but deserves a look"`
}

type appSummary struct {
	App        string                 `json:"app"`
	Version    string                 `json:"version" description:"The latest version"`
	Title      string                 `json:"title"`
	Visibility switchboard.Visibility `json:"visibility"`
}

type appListResponse struct {
	Items []appSummary `json:"items"`
}

type versionItem struct {
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
}

type appGetResponse struct {
	appVersionResponse
	Title    string        `json:"title"`
	Versions []versionItem `json:"versions" description:"Every version, oldest first"`
}

type installRequest struct {
	App     string `path:"app" json:"-"`
	Version string `json:"version,omitempty" description:"The version to install; the latest when omitted"`
}

type installResponse struct {
	App         string    `json:"app"`
	Version     string    `json:"version"`
	InstalledAt time.Time `json:"installedAt"`
}

type installedItem struct {
	App         string                 `json:"app"`
	Version     string                 `json:"version"`
	Title       string                 `json:"title"`
	Visibility  switchboard.Visibility `json:"visibility"`
	InstalledAt time.Time              `json:"installedAt"`
}

type installedListResponse struct {
	Items []installedItem `json:"items"`
}

func versionResponse(v switchboard.AppVersion, warnings []switchboard.Problem) appVersionResponse {
	return appVersionResponse{App: v.AppID, Version: v.Version, Visibility: v.Visibility, Definition: v.Definition, Warnings: warnings}
}

func handleAppRegister(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		vis := r.URL.Query().Get("visibility")
		if vis != "" && vis != "public" && vis != "private" {
			fail(w, r, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "visibility is public or private",
				Problems: []switchboard.Problem{{Message: "must be public or private", Location: "/visibility"}}})
			return
		}
		data, err := readBody(w, r, MaxDefinitionBytes)
		if err != nil {
			fail(w, r, err)
			return
		}
		res, err := reg.Register(r.Context(), p, data, vis == "public")
		if err != nil {
			fail(w, r, err)
			return
		}
		status := http.StatusOK
		if res.Created {
			status = http.StatusCreated
		}
		encode(w, status, versionResponse(res.Version, res.Warnings))
	}
}

func handleAppList(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		apps, err := reg.Apps(r.Context(), p)
		if err != nil {
			fail(w, r, err)
			return
		}
		out := appListResponse{Items: make([]appSummary, 0, len(apps))}
		for _, a := range apps {
			out.Items = append(out.Items, appSummary{App: a.AppID, Version: a.Version, Title: a.Title, Visibility: a.Visibility})
		}
		encode(w, http.StatusOK, out)
	}
}

func handleAppGet(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		v, versions, err := reg.App(r.Context(), p, r.PathValue("app"))
		if err != nil {
			fail(w, r, err)
			return
		}
		out := appGetResponse{appVersionResponse: versionResponse(v, nil), Title: v.Title}
		for _, x := range versions {
			out.Versions = append(out.Versions, versionItem{Version: x.Version, CreatedAt: x.CreatedAt})
		}
		encode(w, http.StatusOK, out)
	}
}

func handleAppVersionGet(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		v, err := reg.AppVersion(r.Context(), p, r.PathValue("app"), r.PathValue("version"))
		if err != nil {
			fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, versionResponse(v, nil))
	}
}

func handleInstall(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		var req installRequest
		if err := decode(w, r, MaxSmallBytes, &req); err != nil {
			fail(w, r, err)
			return
		}
		in, err := reg.Install(r.Context(), p, r.PathValue("app"), req.Version)
		if err != nil {
			fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, installResponse{App: in.AppID, Version: in.Version, InstalledAt: in.InstalledAt})
	}
}

func handleUninstall(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		if err := reg.Uninstall(r.Context(), p, r.PathValue("app")); err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func handleInstalledList(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		apps, err := reg.Installed(r.Context(), p)
		if err != nil {
			fail(w, r, err)
			return
		}
		out := installedListResponse{Items: make([]installedItem, 0, len(apps))}
		for _, a := range apps {
			out.Items = append(out.Items, installedItem{App: a.AppID, Version: a.Version, Title: a.Title, Visibility: a.Visibility, InstalledAt: a.InstalledAt})
		}
		encode(w, http.StatusOK, out)
	}
}

// settingsDoc documents the settings object: {"<category>": {"<name>": value}}.
type settingsDoc map[string]map[string]any

func handleSettingsPut(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		body, err := decodeValue(w, r, MaxSmallBytes)
		if err != nil {
			fail(w, r, err)
			return
		}
		if err := reg.PutSettings(r.Context(), p, r.PathValue("app"), body); err != nil {
			fail(w, r, err)
			return
		}
		out, err := reg.Settings(r.Context(), p, r.PathValue("app"))
		if err != nil {
			fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, out)
	}
}

func handleSettingsGet(reg *registry.Registry) authed {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
		out, err := reg.Settings(r.Context(), p, r.PathValue("app"))
		if err != nil {
			fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, out)
	}
}
