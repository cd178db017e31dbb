package mcp

import (
	"context"
	"encoding/json"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard"
)

// An agent that speaks the protocol's stateless revision learns of changes
// to its tools on a subscriptions/listen stream: a POST whose answer stays
// open. The stream's server (built for its principal like any other) is
// registered here while it is open; a change to the principal's org
// (Changed and Applied, told by the registry of every change any instance
// makes) wakes it, and it recomputes the tools: the SDK sends
// notifications/tools/list_changed when AddTool or RemoveTools change its
// list. A stream whose key or session is revoked or expires is told its
// list changed and then ends.

// endAfterRevoke is how long a revoked principal's stream stays open after
// its last list_changed, so that the notification (which the SDK sends
// after a short delay) reaches the agent before the stream ends.
const endAfterRevoke = time.Second

// Recheck authenticates the request's credential again, from memory; httpapi
// gives it with the principal (WithCaller). It fails once the key or
// session is revoked or has expired.
type Recheck func() (*switchboard.Principal, error)

type listener struct {
	orgID   string
	recheck Recheck
	srv     *sdk.Server
	tools   map[string]string // tool name -> its JSON, to see what changed
	wake    chan struct{}
	end     context.CancelFunc
}

// Changed is told of every change the registry applies (before it applies
// it); the kinds that may change a principal's tools mark their org, for
// Applied to act on. It must not block: the registry calls it in order with
// its other listeners.
func (h *Handler) Changed(c switchboard.Change) {
	switch c.Kind {
	case switchboard.ChangeApps, switchboard.ChangeInstalls, switchboard.ChangeKeys, switchboard.ChangeSessions:
	default:
		return
	}
	h.mu.Lock()
	h.pending[c.OrgID] = true
	h.mu.Unlock()
}

// Applied is told once the registry's state has the changes: the servers
// built for requests are dropped, and the streams of the changed orgs (all
// of them when all, or after a change of every org's) list their tools
// again.
func (h *Handler) Applied(all bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !all && len(h.pending) == 0 {
		return
	}
	all = all || h.pending[""]
	h.servers.Store(newServerCache())
	for l := range h.listeners {
		if all || h.pending[l.orgID] {
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
	}
	clear(h.pending)
}

// CloseStreams ends every open stream, for a shutdown that must not wait
// for agents to hang up.
func (h *Handler) CloseStreams() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for l := range h.listeners {
		l.end()
	}
}

// listen registers a stream's server and follows changes until ctx ends;
// it returns the context to serve the stream with.
func (h *Handler) listen(ctx context.Context, p *switchboard.Principal, recheck Recheck, srv *sdk.Server, tools []boundTool) (context.Context, func()) {
	ctx, end := context.WithCancel(ctx)
	l := &listener{orgID: p.OrgID, recheck: recheck, srv: srv, tools: fingerprints(tools), wake: make(chan struct{}, 1), end: end}
	h.mu.Lock()
	if h.closed {
		end()
	}
	h.listeners[l] = struct{}{}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var expires <-chan time.Time
		if p.Session != nil {
			t := time.NewTimer(time.Until(p.Session.ExpiresAt))
			defer t.Stop()
			expires = t.C
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-expires:
				h.revoked(ctx, l)
				return
			case <-l.wake:
				if !h.refresh(ctx, l) {
					return
				}
			}
		}
	}()
	return ctx, func() {
		end()
		<-done
		h.mu.Lock()
		delete(h.listeners, l)
		h.mu.Unlock()
	}
}

// refresh recomputes a stream's tools and reports whether it stays open.
func (h *Handler) refresh(ctx context.Context, l *listener) bool {
	p, err := l.recheck()
	if err != nil {
		h.revoked(ctx, l)
		return false
	}
	tools, err := h.tools(ctx, p)
	if err != nil {
		h.log.Warn("mcp: list the tools of a stream", "org", l.orgID, "err", err)
		return true
	}
	now := fingerprints(tools)
	var gone []string
	for name, fp := range l.tools {
		if now[name] != fp {
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		l.srv.RemoveTools(gone...)
	}
	for _, t := range tools {
		if l.tools[t.tool.Name] != now[t.tool.Name] {
			l.srv.AddTool(t.tool, t.handler)
		}
	}
	l.tools = now
	return true
}

// revoked empties a stream's tools (the agent is told its list changed)
// and ends the stream shortly after.
func (h *Handler) revoked(ctx context.Context, l *listener) {
	names := make([]string, 0, len(l.tools))
	for name := range l.tools {
		names = append(names, name)
	}
	l.tools = nil
	if len(names) > 0 {
		l.srv.RemoveTools(names...)
	}
	select {
	case <-ctx.Done():
	case <-time.After(endAfterRevoke):
	}
	l.end()
}

func fingerprints(tools []boundTool) map[string]string {
	m := make(map[string]string, len(tools))
	for _, t := range tools {
		b, _ := json.Marshal(t.tool)
		m[t.tool.Name] = string(b)
	}
	return m
}
