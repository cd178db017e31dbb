package appdef

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/schema"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

func (c *compiler) boolean(obj *jsonv.Object, key, ptr string) bool {
	v, ok := obj.Get(key)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		c.fail(Pointer(ptr, key), "%s must be true or false, not %s", key, typeName(v))
	}
	return b
}

// name validates and canonicalizes obj.name in place.
func (c *compiler) name(obj *jsonv.Object, ptr string) (canonical, local string) {
	n, ok := c.str(obj, "name", ptr, true)
	if !ok {
		return "", ""
	}
	canonical, local, err := CanonicalName(n, c.app.BareID, c.app.ID)
	if err != nil {
		c.fail(Pointer(ptr, "name"), "%s", err.Error())
		return "", ""
	}
	obj.Set("name", canonical)
	return canonical, local
}

func (c *compiler) schemaAt(obj *jsonv.Object, key, ptr string) *schema.Schema {
	v, ok := obj.Get(key)
	if !ok {
		return nil
	}
	s, problems := schema.Compile(v, Pointer(ptr, key))
	c.problems = append(c.problems, problems...)
	return s
}

func (c *compiler) template(src, ptr string) *tmpl.Template {
	t, err := tmpl.Parse(src)
	if err != nil {
		var te *tmpl.Error
		if errors.As(err, &te) {
			c.problems = append(c.problems, switchboard.Problem{Message: "template: " + te.Message, Location: ptr, Line: te.Line, Column: te.Column})
		} else {
			c.fail(ptr, "template: %s", err.Error())
		}
		return nil
	}
	return t
}

// checkURL verifies that a URL template yields an absolute http(s) URL when
// every value is empty, and reads its origin.
func (c *compiler) checkURL(t *tmpl.Template, ptr string) (Origin, *URLShape, bool) {
	rendered, err := t.Render(nil)
	if err != nil {
		c.fail(ptr, "the URL template cannot be rendered: %s", err.Error())
		return Origin{}, nil, false
	}
	u, err := url.Parse(rendered)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.fail(ptr, "the URL must be an absolute http or https URL; with every value empty it is %q", rendered)
		return Origin{}, nil, false
	}
	o, err := ParseOrigin(t)
	if err != nil {
		c.fail(ptr, "%s", err.Error())
		return Origin{}, nil, false
	}
	shape, err := ParseURLShape(t)
	if err != nil {
		c.fail(ptr, "%s", err.Error())
		return Origin{}, nil, false
	}
	return o, shape, true
}

func (c *compiler) method(obj *jsonv.Object, key, ptr string) string {
	m, ok := c.str(obj, key, ptr, true)
	if !ok {
		return ""
	}
	up := strings.ToUpper(m)
	if !methods[up] {
		c.fail(Pointer(ptr, key), "%s must be get, post, put, patch or delete; got %q", key, m)
		return ""
	}
	return up
}

func (c *compiler) stringList(obj *jsonv.Object, key, ptr string) []string {
	v, ok := obj.Get(key)
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		c.fail(Pointer(ptr, key), "%s must be an array of names, not %s", key, typeName(v))
		return nil
	}
	var out []string
	for i, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			c.fail(Pointer(Pointer(ptr, key), i), "each of %s must be a non-empty string", key)
			continue
		}
		out = append(out, s)
	}
	return out
}

func display(v any) string {
	b, err := jsonv.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
