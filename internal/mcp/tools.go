package mcp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// MaxToolName is the longest tool name the protocol allows.
const MaxToolName = 128

type boundTool struct {
	tool    *sdk.Tool
	handler sdk.ToolHandler
}

// tools lists the tools p may call: a session's commands, or every command
// and action of the org's installed apps for a key.
func (h *Handler) tools(ctx context.Context, p *switchboard.Principal) ([]boundTool, error) {
	cmds, err := h.run.Commands(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []boundTool
	seen := map[string]bool{}
	// add keeps names unique: a public app and an org's private app of the
	// same bare id both installed name their tools with their full app ids;
	// an action named as a command of its app gets a hash suffix.
	add := func(t boundTool, res runner.Resolved, local string) {
		if seen[t.tool.Name] {
			t.tool.Name = ToolName(res.Inst.AppID, local)
		}
		if seen[t.tool.Name] {
			t.tool.Name = ToolName(res.Inst.AppID, local+"#action")
		}
		seen[t.tool.Name] = true
		out = append(out, t)
	}
	for _, c := range cmds {
		if p.Session != nil && !p.Session.Allows(c.Inst.AppID, c.Command.Name) {
			continue
		}
		add(h.commandTool(p, c), c, c.Command.Local)
	}
	if p.Session != nil {
		return out, nil
	}
	acts, err := h.run.Actions(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		add(h.actionTool(p, a), a, a.Action.Local)
	}
	return out, nil
}

func (h *Handler) commandTool(p *switchboard.Principal, res runner.Resolved) boundTool {
	cmd := res.Command
	def := cmd.Definition
	args := map[string]any{}
	for _, a := range cmd.Args {
		if p.Session != nil {
			if _, pinned := p.Session.Args[a]; pinned {
				continue
			}
		}
		args[a] = map[string]any{"type": "string"}
	}
	body := member(def, "inputSchema")
	if body == nil {
		body = json.RawMessage(`{}`)
	}
	t := &sdk.Tool{
		Name:  ToolName(res.Inst.App.BareID, cmd.Local),
		Title: stringMember(def, "displayName"),
		InputSchema: map[string]any{"type": "object", "properties": map[string]any{
			"args":    map[string]any{"type": "object", "properties": args},
			"body":    body,
			"headers": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		}},
		Description: stringMember(def, "description"),
		Annotations: &sdk.ToolAnnotations{OpenWorldHint: ptr(true)},
	}
	if t.Description == "" {
		t.Description = cmd.Method + " " + stringMember(def, "url")
	}
	if cmd.Method == http.MethodGet || cmd.Method == http.MethodHead {
		t.Annotations.ReadOnlyHint = true
		t.Annotations.DestructiveHint = ptr(false)
	}
	if out := member(def, "outputSchema"); isObjectSchema(out) {
		// structuredContent is the run document: the outputSchema
		// describes its body.
		t.OutputSchema = map[string]any{"type": "object", "properties": map[string]any{
			"status": map[string]any{"type": "integer"}, "body": out}}
	}
	name := cmd.Name
	return boundTool{tool: t, handler: func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return h.callCommand(ctx, p, name, req.Params.Arguments), nil
	}}
}

func (h *Handler) actionTool(p *switchboard.Principal, res runner.Resolved) boundTool {
	a := res.Action
	def := a.Definition
	in := member(def, "inputSchema")
	if !isObjectSchema(in) {
		in = json.RawMessage(`{"type":"object"}`)
	}
	t := &sdk.Tool{
		Name:        ToolName(res.Inst.App.BareID, a.Local),
		Title:       stringMember(def, "displayName"),
		Description: a.Description,
		InputSchema: in,
		Annotations: &sdk.ToolAnnotations{OpenWorldHint: ptr(true)},
	}
	if t.Description == "" {
		t.Description = "workflow action " + a.Name
	}
	if out := member(def, "outputSchema"); isObjectSchema(out) {
		t.OutputSchema = out
	}
	name := a.Name
	return boundTool{tool: t, handler: func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		return h.callAction(ctx, p, name, req.Params.Arguments), nil
	}}
}

// ToolName is the tool of an app's command or action: the bare app id and
// the local name, with characters the protocol does not allow replaced and a
// name over MaxToolName shortened with a stable hash suffix.
func ToolName(appID, local string) string {
	name := appID + "." + local
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, name)
	if clean == name && len(name) <= MaxToolName {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:6])
	if len(clean) > MaxToolName-len(suffix) {
		clean = clean[:MaxToolName-len(suffix)]
	}
	return clean + suffix
}

// member returns a member of a definition as JSON, nil when absent.
func member(def *jsonv.Object, key string) json.RawMessage {
	v, ok := jsonv.Get(def, key)
	if !ok || v == nil {
		return nil
	}
	b, err := jsonv.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

func stringMember(def *jsonv.Object, key string) string {
	v, _ := jsonv.Get(def, key)
	s, _ := v.(string)
	return s
}

func isObjectSchema(b json.RawMessage) bool {
	var s struct {
		Type any `json:"type"`
	}
	return b != nil && json.Unmarshal(b, &s) == nil && s.Type == "object"
}

func ptr[T any](v T) *T { return &v }
