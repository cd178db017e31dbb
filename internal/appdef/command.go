package appdef

import (
	"encoding/json"
	"strconv"

	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/schema"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Command is a compiled command.
type Command struct {
	Name  string // canonical
	Local string
	// Args are the permitted args (permittedArgs and permittedUrlArgs).
	Args   []string
	URL    *tmpl.Template
	Origin Origin
	// Shape is the URL's structure, which a run's args may not change.
	Shape          *URLShape
	Method         string // upper case
	AuditLogging   bool
	CacheSeconds   int
	AppSettings    []SettingRef
	AppAccountName string
	InputSchema    *schema.Schema
	OutputSchema   *schema.Schema
	// Definition is the command's canonical definition.
	Definition *jsonv.Object
	argSet     map[string]bool
}

// Permits reports whether name is a permitted arg.
func (c *Command) Permits(name string) bool { return c.argSet[name] }

var commandProps = []string{"name", "displayName", "description", "permittedArgs", "permittedUrlArgs", "url", "httpMethod",
	"auditLogging", "cacheSeconds", "appSettings", "appAccountName", "inputSchema", "outputSchema"}

func (c *compiler) command(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "a command must be an object, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, commandProps, "a command")
	cmd := &Command{Definition: obj, argSet: map[string]bool{}}
	cmd.Name, cmd.Local = c.name(obj, ptr)
	for _, a := range append(c.stringList(obj, "permittedArgs", ptr), c.stringList(obj, "permittedUrlArgs", ptr)...) {
		if !cmd.argSet[a] {
			cmd.argSet[a] = true
			cmd.Args = append(cmd.Args, a)
		}
	}
	if u, ok := c.str(obj, "url", ptr, true); ok {
		uptr := Pointer(ptr, "url")
		if t := c.template(u, uptr); t != nil {
			cmd.URL = t
			if t.ReadsRoot() {
				c.fail(uptr, "the url reads the args as a whole (such as {{lookup this name}}); name each arg it uses, so that only permitted args reach the URL")
			}
			for _, n := range t.Names() {
				if !cmd.argSet[n] {
					c.fail(uptr, "the url uses {{%s}}, which is not a permitted arg; add it to permittedArgs (settings and secrets never go into a URL)", n)
				}
			}
			cmd.Origin, cmd.Shape, _ = c.checkURL(t, uptr)
		}
	}
	cmd.Method = c.method(obj, "httpMethod", ptr)
	cmd.AuditLogging = c.boolean(obj, "auditLogging", ptr)
	if cs, ok := obj.Get("cacheSeconds"); ok {
		n, isNum := cs.(json.Number)
		i, err := strconv.ParseFloat(string(n), 64)
		if !isNum || err != nil || i != float64(int(i)) || i < 15 || i > 600 {
			c.fail(Pointer(ptr, "cacheSeconds"), "cacheSeconds must be a whole number of seconds from 15 to 600; got %s", display(cs))
		} else {
			cmd.CacheSeconds = int(i)
		}
	}
	cmd.AppSettings = c.appSettings(obj, ptr)
	cmd.AppAccountName = c.accountName(obj, ptr)
	cmd.InputSchema = c.schemaAt(obj, "inputSchema", ptr)
	cmd.OutputSchema = c.schemaAt(obj, "outputSchema", ptr)
	if cmd.Local != "" {
		if _, dup := c.app.commands[cmd.Local]; dup {
			c.fail(Pointer(ptr, "name"), "another command is also named %s", cmd.Name)
			return
		}
		c.app.commands[cmd.Local] = cmd
	}
	c.app.Commands = append(c.app.Commands, cmd)
}
