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

func handleAppRegister(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		vis := r.URL.Query().Get("visibility")
		if vis != "" && vis != "public" && vis != "private" {
			return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "visibility is public or private",
				Problems: []switchboard.Problem{{Message: "must be public or private", Location: "/visibility"}}}
		}
		data, err := readBody(w, r, MaxDefinitionBytes)
		if err != nil {
			return err
		}
		res, err := reg.Register(r.Context(), p, data, vis == "public")
		if err != nil {
			return err
		}
		status := http.StatusOK
		if res.Created {
			status = http.StatusCreated
		}
		encode(w, status, versionResponse(res.Version, res.Warnings))
		return nil
	}
}

func handleAppList(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		apps, err := reg.Apps(r.Context(), p)
		if err != nil {
			return err
		}
		out := appListResponse{Items: make([]appSummary, 0, len(apps))}
		for _, a := range apps {
			out.Items = append(out.Items, appSummary{App: a.AppID, Version: a.Version, Title: a.Title, Visibility: a.Visibility})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleAppGet(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		v, versions, err := reg.App(r.Context(), p, r.PathValue("app"))
		if err != nil {
			return err
		}
		out := appGetResponse{appVersionResponse: versionResponse(v, nil), Title: v.Title}
		for _, x := range versions {
			out.Versions = append(out.Versions, versionItem{Version: x.Version, CreatedAt: x.CreatedAt})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleAppVersionGet(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		v, err := reg.AppVersion(r.Context(), p, r.PathValue("app"), r.PathValue("version"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, versionResponse(v, nil))
		return nil
	}
}

func handleInstall(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		var req installRequest
		if err := decode(w, r, MaxSmallBytes, &req); err != nil {
			return err
		}
		in, err := reg.Install(r.Context(), p, r.PathValue("app"), req.Version)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, installResponse{App: in.AppID, Version: in.Version, InstalledAt: in.InstalledAt})
		return nil
	}
}

func handleUninstall(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		if err := reg.Uninstall(r.Context(), p, r.PathValue("app")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleInstalledList(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		apps, err := reg.Installed(r.Context(), p)
		if err != nil {
			return err
		}
		out := installedListResponse{Items: make([]installedItem, 0, len(apps))}
		for _, a := range apps {
			out.Items = append(out.Items, installedItem{App: a.AppID, Version: a.Version, Title: a.Title, Visibility: a.Visibility, InstalledAt: a.InstalledAt})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

// settingsDoc documents the settings object: {"<category>": {"<name>": value}}.
type settingsDoc map[string]map[string]any

func handleSettingsPut(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		body, err := decodeValue(w, r, MaxSmallBytes)
		if err != nil {
			return err
		}
		if err := reg.PutSettings(r.Context(), p, r.PathValue("app"), body); err != nil {
			return err
		}
		out, err := reg.Settings(r.Context(), p, r.PathValue("app"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleSettingsGet(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		out, err := reg.Settings(r.Context(), p, r.PathValue("app"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}
