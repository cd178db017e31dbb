package console

import (
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
)

type keysData struct {
	Keys    []switchboard.Key
	Created *createdKey // shown once, right after creation
}

type createdKey struct {
	switchboard.Key
	Secret string
}

func (c *Console) keysView(r *http.Request, s *signedIn, created *createdKey) (view, error) {
	keys, err := c.cfg.Registry.Keys(r.Context(), s.p)
	if err != nil {
		return view{}, err
	}
	return view{Title: "Keys", Notice: notice(r), Data: keysData{Keys: keys, Created: created}}, nil
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	v, err := c.keysView(r, s, nil)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "keys", s, v)
	return nil
}

// keyCreatePost creates a key (registry.CreateKey, as POST /v1/keys) and
// shows it once: the answer is the page itself, never a redirect whose
// URL would carry it.
func (c *Console) keyCreatePost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	k, secret, err := c.cfg.Registry.CreateKey(r.Context(), s.p, strings.TrimSpace(r.PostFormValue("name")), switchboard.Role(r.PostFormValue("role")))
	if err != nil {
		ev := c.problemOf(w, err)
		if ev.Status >= 500 {
			return err
		}
		v, lerr := c.keysView(r, s, nil)
		if lerr != nil {
			return lerr
		}
		v.Error = ev
		c.render(w, r, formStatus, "keys", s, v)
		return nil
	}
	v, err := c.keysView(r, s, &createdKey{Key: k, Secret: secret})
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusCreated, "keys", s, v)
	return nil
}

func (c *Console) keyRevokePost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	if err := c.cfg.Registry.DeleteKey(r.Context(), s.p, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/keys?done=revoked", http.StatusSeeOther)
	return nil
}
