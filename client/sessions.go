package client

import (
	"context"
	"net/url"
	"time"
)

// SessionRequest asks for a browser session: the commands it may run, the
// args it pins, the page origins it may be used from, who it is for (the
// audit log records it) and its lifetime.
type SessionRequest struct {
	Commands   []string          `json:"commands"`
	Args       map[string]string `json:"args,omitempty"`
	Origins    []string          `json:"origins,omitempty"`
	Subject    string            `json:"subject,omitempty"`
	TTLSeconds int               `json:"ttlSeconds,omitempty"`
}

// Session is a browser session; Token is set only when it was just minted.
type Session struct {
	ID        string            `json:"id"`
	Token     string            `json:"token,omitempty"`
	KeyID     string            `json:"keyId,omitempty"`
	Commands  []string          `json:"commands"`
	Args      map[string]string `json:"args,omitempty"`
	Origins   []string          `json:"origins"`
	Subject   string            `json:"subject,omitempty"`
	CreatedAt time.Time         `json:"createdAt,omitzero"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// CreateSession mints a session token for a browser (admin or agent key).
func (c *Client) CreateSession(ctx context.Context, req SessionRequest) (*Session, error) {
	var out Session
	_, err := c.do(ctx, "POST", "/v1/sessions", nil, req, &out)
	return &out, err
}

// Sessions lists the live sessions the key may see, without their tokens.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	var out struct{ Items []Session }
	_, err := c.do(ctx, "GET", "/v1/sessions", nil, nil, &out)
	return out.Items, err
}

// DeleteSession revokes a session.
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	_, err := c.do(ctx, "DELETE", "/v1/sessions/"+url.PathEscape(id), nil, nil, nil)
	return err
}
