// Package schema compiles the JSON Schema subset that apps use for the
// inputSchema and outputSchema of commands and actions, and converts values
// with it exactly as Ajv 8 does with {coerceTypes: true, allErrors: true}:
// "12" becomes 12 for a number, 12 becomes "12" for a string, and so on.
// A schema is compiled once, at registration, and then applied to every
// request and response without building maps or using reflection.
package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	switchboard "github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// kind is one JSON Schema type name.
type kind uint8

const (
	kString kind = iota
	kNumber
	kInteger
	kBoolean
	kNull
	kObject
	kArray
)

var kindNames = [...]string{"string", "number", "integer", "boolean", "null", "object", "array"}

func kindOf(name string) (kind, bool) {
	for i, n := range kindNames {
		if n == name {
			return kind(i), true
		}
	}
	return 0, false
}

// Schema is a compiled schema, safe for concurrent use.
type Schema struct {
	root *node
}

// node is one compiled schema object or boolean schema.
type node struct {
	// never is the false schema: every value is a violation.
	never bool
	// types are the declared types in the schema's order, which is the
	// order in which Ajv tries coercions; empty means any type.
	types []kind
	// typeMsg is the violation message, built at compile time so that a
	// violation costs no formatting: Ajv prints an array of types with
	// Array.prototype.toString, "must be number,string".
	typeMsg string

	props []prop
	// propIndex maps a name to its index in props once there are enough
	// properties for hashing to beat a scan.
	propIndex map[string]int
	required  []required
	// noAdditional is additionalProperties: false.
	noAdditional bool
	// additional is the schema of additional properties (nil: any value).
	additional *node
	// items is the schema of every array element (nil: any value).
	items *node
}

type prop struct {
	name   string
	schema *node
}

type required struct {
	name string
	msg  string // "must have required property 'name'"
}

// propIndexAt is the number of properties from which a node keeps a map
// from name to property.
const propIndexAt = 9

// lookup returns the schema of the declared property name.
func (n *node) lookup(name string) (*node, bool) {
	if n.propIndex != nil {
		i, ok := n.propIndex[name]
		if !ok {
			return nil, false
		}
		return n.props[i].schema, true
	}
	for i := range n.props {
		if n.props[i].name == name {
			return n.props[i].schema, true
		}
	}
	return nil, false
}

// hasObjectRules reports whether the node says anything about objects.
func (n *node) hasObjectRules() bool {
	return len(n.props) > 0 || len(n.required) > 0 || n.noAdditional || n.additional != nil
}

// Compile compiles schema (a decoded JSON value) in the subset. base is the
// JSON pointer of the schema inside the app definition (for example
// "/commands/0/inputSchema"); problems carry pointers under it. It returns
// every problem found, and a nil *Schema when there is any.
func Compile(raw any, base string) (*Schema, []switchboard.Problem) {
	c := compiler{}
	root := c.node(raw, base)
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	return &Schema{root: root}, nil
}

type compiler struct {
	problems []switchboard.Problem
}

func (c *compiler) fail(at, format string, args ...any) {
	c.problems = append(c.problems, switchboard.Problem{Message: fmt.Sprintf(format, args...), Location: at})
}

// node compiles the schema v found at pointer at.
func (c *compiler) node(v any, at string) *node {
	switch x := v.(type) {
	case bool:
		// Boolean schemas, as JSON Schema and Ajv allow them anywhere a
		// schema is: true accepts everything, false nothing.
		return &node{never: !x}
	case *jsonv.Object, map[string]any:
	default:
		c.fail(at, "must be a schema (an object or a boolean)")
		return &node{}
	}
	n := &node{}
	jsonv.Range(v, func(key string, val any) bool {
		kat := at + "/" + escape(key)
		switch key {
		case "type":
			c.types(n, val, kat)
		case "properties":
			c.properties(n, val, kat)
		case "required":
			c.required(n, val, kat)
		case "additionalProperties":
			// false (and only false) reports the member itself as not
			// allowed; a schema reports what is wrong inside the member.
			sub := c.node(val, kat)
			if sub.never {
				n.noAdditional = true
			} else if !sub.alwaysValid() {
				n.additional = sub
			}
		case "items":
			if _, ok := val.([]any); ok {
				c.fail(kat, "must be a schema: the array form of items (tuples) is not supported")
				return true
			}
			sub := c.node(val, kat)
			if !sub.alwaysValid() {
				n.items = sub
			}
		// Annotations: accepted and ignored, but well-formed as the
		// draft-07 meta-schema, which Ajv enforces, wants them.
		case "$schema", "title", "description", "$comment":
			if _, ok := val.(string); !ok {
				c.fail(kat, "must be a string")
			}
		case "examples":
			if _, ok := anyList(val).([]any); !ok {
				c.fail(kat, "must be an array")
			}
		default:
			c.fail(kat, "unsupported keyword %q: the supported keywords are type, properties, required, additionalProperties and items, and the annotations $schema, title, description, examples and $comment", key)
		}
		return true
	})
	return n
}

// alwaysValid reports whether n accepts every value unchanged, so that
// applying it can be skipped (Ajv's alwaysValidSchema).
func (n *node) alwaysValid() bool {
	return !n.never && len(n.types) == 0 && !n.hasObjectRules() && n.items == nil
}

func (c *compiler) types(n *node, v any, at string) {
	v = anyList(v)
	var names []any
	switch x := v.(type) {
	case string:
		names = []any{x}
	case []any:
		if len(x) == 0 {
			c.fail(at, "must not be an empty array")
			return
		}
		names = x
	default:
		c.fail(at, "must be a type name or an array of type names")
		return
	}
	for i, e := range names {
		eat := at
		if _, ok := v.([]any); ok {
			eat = at + "/" + strconv.Itoa(i)
		}
		s, ok := e.(string)
		if !ok {
			c.fail(eat, "must be a type name (a string)")
			continue
		}
		k, ok := kindOf(s)
		if !ok {
			c.fail(eat, "unknown type %q: the types are string, number, integer, boolean, null, object and array", s)
			continue
		}
		dup := false
		for _, t := range n.types {
			dup = dup || t == k
		}
		if dup {
			c.fail(eat, "type %q is listed twice", s)
			continue
		}
		n.types = append(n.types, k)
	}
	var b strings.Builder
	b.WriteString("must be ")
	for i, t := range n.types {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kindNames[t])
	}
	n.typeMsg = b.String()
}

func (c *compiler) properties(n *node, v any, at string) {
	if !jsonv.IsObject(v) {
		c.fail(at, "must be an object whose members are schemas")
		return
	}
	jsonv.Range(v, func(name string, sub any) bool {
		n.props = append(n.props, prop{name: name, schema: c.node(sub, at+"/"+escape(name))})
		return true
	})
	if len(n.props) >= propIndexAt {
		n.propIndex = make(map[string]int, len(n.props))
		for i, p := range n.props {
			n.propIndex[p.name] = i
		}
	}
}

func (c *compiler) required(n *node, v any, at string) {
	list, ok := anyList(v).([]any)
	if !ok {
		c.fail(at, "must be an array of property names")
		return
	}
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			c.fail(at+"/"+strconv.Itoa(i), "must be a property name (a string)")
			continue
		}
		dup := false
		for _, r := range n.required {
			dup = dup || r.name == s
		}
		if dup {
			// The draft-07 meta-schema, which Ajv enforces, wants unique items.
			c.fail(at+"/"+strconv.Itoa(i), "property %q is listed twice", s)
			continue
		}
		n.required = append(n.required, required{name: s, msg: "must have required property '" + s + "'"})
	}
}

// anyList turns the []string that Go code may build into the []any that
// decoding gives.
func anyList(v any) any {
	ss, ok := v.([]string)
	if !ok {
		return v
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// escape escapes a member name as a JSON pointer token (RFC 6901).
func escape(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// Values made by coercion that are common enough to keep boxed, since
// boxing a string allocates.
var (
	numZero  any = json.Number("0")
	numOne   any = json.Number("1")
	strTrue  any = "true"
	strFalse any = "false"
)

// Properties lists the top-level properties an object may have, and whether
// it may also have others (open). A nil schema is open.
func (s *Schema) Properties() (names []string, open bool) {
	if s == nil || s.root == nil {
		return nil, true
	}
	n := s.root
	if n.never {
		return nil, false
	}
	for _, p := range n.props {
		names = append(names, p.name)
	}
	return names, !n.noAdditional && (n.additional == nil || !n.additional.never)
}
