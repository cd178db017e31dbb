package httpapi

import (
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
)

type orgCreateRequest struct {
	ID   string `json:"id,omitempty" description:"1 to 64 of [a-z0-9]; random when omitted" pattern:"^[a-z0-9]{1,64}$"`
	Name string `json:"name,omitempty" description:"A display name; the id when omitted"`
}

type orgCreateResponse struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	AdminKey string `json:"adminKey" description:"The org's first admin key. It is shown only now."`
}

func handleOrgCreate(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		var req orgCreateRequest
		if err := decode(w, r, MaxSmallBytes, &req); err != nil {
			return err
		}
		org, key, err := reg.CreateOrg(r.Context(), req.ID, req.Name)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, orgCreateResponse{ID: org.ID, Name: org.Name, AdminKey: key})
		return nil
	}
}

type keyCreateRequest struct {
	Name string           `json:"name" required:"true" description:"What the key is for"`
	Role switchboard.Role `json:"role" required:"true" enum:"admin,agent,auditor"`
}

type keyCreateResponse struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Role      switchboard.Role `json:"role"`
	Key       string           `json:"key" description:"The key itself. It is shown only now."`
	CreatedAt time.Time        `json:"createdAt"`
}

type keyItem struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Role      switchboard.Role `json:"role"`
	CreatedAt time.Time        `json:"createdAt"`
}

type keyListResponse struct {
	Items []keyItem `json:"items"`
}

type keyPath struct {
	ID string `path:"id"`
}

func handleKeyCreate(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		var req keyCreateRequest
		if err := decode(w, r, MaxSmallBytes, &req); err != nil {
			return err
		}
		k, key, err := reg.CreateKey(r.Context(), p, req.Name, req.Role)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, keyCreateResponse{ID: k.ID, Name: k.Name, Role: k.Role, Key: key, CreatedAt: k.CreatedAt})
		return nil
	}
}

func handleKeyList(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		keys, err := reg.Keys(r.Context(), p)
		if err != nil {
			return err
		}
		out := keyListResponse{Items: make([]keyItem, 0, len(keys))}
		for _, k := range keys {
			out.Items = append(out.Items, keyItem{ID: k.ID, Name: k.Name, Role: k.Role, CreatedAt: k.CreatedAt})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleKeyDelete(reg *registry.Registry) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		if err := reg.DeleteKey(r.Context(), p, r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
