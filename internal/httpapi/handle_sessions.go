package httpapi

import (
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/session"
)

type sessionCreateRequest struct {
	Commands   []string          `json:"commands" required:"true" description:"Command names (any spelling) or <app>.* for every command of an app; each must be one the key may run"`
	Args       map[string]string `json:"args,omitempty" description:"Pinned args: runs use them and may not override them"`
	Origins    []string          `json:"origins,omitempty" description:"The pages' origins (scheme://host[:port]) that may use the token; none: any"`
	Subject    string            `json:"subject,omitempty" description:"Who the session is for, recorded in the audit log"`
	TTLSeconds int               `json:"ttlSeconds,omitempty" minimum:"1" maximum:"3600" description:"900 unless given"`
}

type sessionCreateResponse struct {
	ID        string    `json:"id"`
	Token     string    `json:"token" description:"The session token (sbs_...). It is shown only now."`
	ExpiresAt time.Time `json:"expiresAt"`
	Commands  []string  `json:"commands" description:"The commands, canonical"`
	Origins   []string  `json:"origins"`
}

type sessionItem struct {
	ID        string            `json:"id"`
	KeyID     string            `json:"keyId" description:"The key that minted it"`
	Commands  []string          `json:"commands"`
	Args      map[string]string `json:"args"`
	Origins   []string          `json:"origins"`
	Subject   string            `json:"subject"`
	CreatedAt time.Time         `json:"createdAt"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

type sessionListResponse struct {
	Items []sessionItem `json:"items"`
}

type sessionPath struct {
	ID string `path:"id"`
}

func handleSessionCreate(m *session.Manager) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		var req sessionCreateRequest
		if err := decode(w, r, MaxSmallBytes, &req); err != nil {
			return err
		}
		s, err := m.Mint(r.Context(), p, session.MintRequest{Commands: req.Commands, Args: req.Args, Origins: req.Origins,
			Subject: req.Subject, TTLSeconds: req.TTLSeconds})
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, sessionCreateResponse{ID: s.ID, Token: s.Token, ExpiresAt: s.ExpiresAt,
			Commands: s.Commands, Origins: nonNilStrings(s.Origins)})
		return nil
	}
}

func handleSessionList(m *session.Manager) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		list, err := m.List(r.Context(), p)
		if err != nil {
			return err
		}
		out := sessionListResponse{Items: make([]sessionItem, 0, len(list))}
		for _, s := range list {
			out.Items = append(out.Items, sessionItem{ID: s.ID, KeyID: s.KeyID, Commands: s.Commands, Args: s.Args,
				Origins: nonNilStrings(s.Origins), Subject: s.Subject, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleSessionDelete(m *session.Manager) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		if err := m.Revoke(r.Context(), p, r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
