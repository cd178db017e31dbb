// Package jsonv is the JSON value model shared by templates, schemas and the
// runner. Objects keep their members in order, as JavaScript's JSON.parse
// does, so that a body that passes through the platform keeps the order its
// author gave it; numbers stay json.Number so that they pass through exact.
//
// A value is one of: nil, bool, string, json.Number, []any, *Object. Code
// that builds values in Go may also use map[string]any and map[string]string;
// every function here accepts them.
package jsonv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Object is a JSON object whose members keep their order.
type Object struct {
	Members []Member
	index   map[string]int // built once the object is large, for Get
}

// Member is one name/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// indexAt is the size from which an object keeps a map from key to position:
// below it a linear scan is faster than hashing.
const indexAt = 16

// NewObject returns an empty object with room for n members.
func NewObject(n int) *Object { return &Object{Members: make([]Member, 0, n)} }

// Len returns the number of members.
func (o *Object) Len() int { return len(o.Members) }

func (o *Object) find(key string) int {
	if o.index != nil {
		if i, ok := o.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range o.Members {
		if o.Members[i].Key == key {
			return i
		}
	}
	return -1
}

// Get returns the value of key.
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	i := o.find(key)
	if i < 0 {
		return nil, false
	}
	return o.Members[i].Value, true
}

// Set replaces the value of key in place, or appends it. As with JSON.parse,
// a repeated key keeps its first position and its last value.
func (o *Object) Set(key string, v any) {
	if i := o.find(key); i >= 0 {
		o.Members[i].Value = v
		return
	}
	o.Members = append(o.Members, Member{key, v})
	if o.index != nil {
		o.index[key] = len(o.Members) - 1
	} else if len(o.Members) > indexAt {
		o.index = make(map[string]int, 2*len(o.Members))
		for i, m := range o.Members {
			o.index[m.Key] = i
		}
	}
}

// Delete removes key.
func (o *Object) Delete(key string) {
	i := o.find(key)
	if i < 0 {
		return
	}
	o.Members = append(o.Members[:i], o.Members[i+1:]...)
	if o.index != nil {
		delete(o.index, key)
		for j := i; j < len(o.Members); j++ {
			o.index[o.Members[j].Key] = j
		}
	}
}

// MarshalJSON encodes the object compactly, members in order.
func (o *Object) MarshalJSON() ([]byte, error) { return Append(nil, o) }

// Get returns the member key of v when v is an object (*Object, map[string]any
// or map[string]string).
func Get(v any, key string) (any, bool) {
	switch o := v.(type) {
	case *Object:
		return o.Get(key)
	case map[string]any:
		x, ok := o[key]
		return x, ok
	case map[string]string:
		x, ok := o[key]
		return x, ok
	}
	return nil, false
}

// IsObject reports whether v is an object in any of its Go forms.
func IsObject(v any) bool {
	switch v.(type) {
	case *Object, map[string]any, map[string]string:
		return true
	}
	return false
}

// Range calls fn for every member of the object v, in order (map forms are
// visited in sorted key order, so that output is deterministic). It stops
// when fn returns false.
func Range(v any, fn func(key string, val any) bool) {
	switch o := v.(type) {
	case *Object:
		for _, m := range o.Members {
			if !fn(m.Key, m.Value) {
				return
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(o) {
			if !fn(k, o[k]) {
				return
			}
		}
	case map[string]string:
		for _, k := range sortedKeys(o) {
			if !fn(k, o[k]) {
				return
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SyntaxError is malformed JSON, located by byte offset and by line and
// column (1-based, columns count bytes).
type SyntaxError struct {
	Offset       int64
	Line, Column int
	Msg          string
	// Pointer is, for invalid UTF-8, the JSON pointer of the string value
	// that holds it, or of the object whose member name holds it ("" is the
	// whole document). It is empty for other errors.
	Pointer string
}

// ErrInvalidUTF8 is the error DecodeStrict wraps in a SyntaxError (its Msg)
// for bytes that are not UTF-8.
var ErrInvalidUTF8 = errors.New("invalid UTF-8 in a string")

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// decodeOptions accept what JSON.parse accepts: repeated names (the last
// wins) and, in strings, escapes of lone surrogates, which become U+FFFD (a
// Go string cannot hold a lone surrogate; U+FFFD is also what Node sends
// when it encodes such a string to UTF-8). The option also lets bytes that
// are not UTF-8 through, replaced with U+FFFD: DecodeStrict refuses them.
var decodeOptions = []jsontext.Options{
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// decoder is a pooled jsontext decoder with its reader: making one costs
// more than decoding a small body.
type decoder struct {
	dec jsontext.Decoder
	rd  bytes.Reader
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// Decode parses exactly one JSON value from data. The value shares no
// memory with data. Bytes that are not UTF-8 are replaced with U+FFFD, as a
// browser or Node decodes a response's text: Decode is for what upstreams
// answer and for what the platform stored; what a caller sends goes through
// DecodeStrict.
func Decode(data []byte) (any, error) { return decode(data, -1) }

// DecodeStrict is Decode for what a caller sends: bytes that are not UTF-8
// are an error (a *SyntaxError whose Msg is ErrInvalidUTF8's and whose
// Pointer says where), never replaced. Escapes of lone surrogates are still
// accepted, as JSON.parse accepts them, and become U+FFFD.
func DecodeStrict(data []byte) (any, error) {
	return decode(data, invalidUTF8At(data))
}

// invalidUTF8At is the offset of the first byte of data that is not part of
// valid UTF-8, or -1.
func invalidUTF8At(data []byte) int64 {
	if utf8.Valid(data) {
		return -1
	}
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return int64(i)
		}
		i += n
	}
	return -1
}

// decode decodes data; bad is the offset of its first invalid UTF-8 byte, to
// be refused, or -1.
func decode(data []byte, bad int64) (any, error) {
	d := decoders.Get().(*decoder)
	defer func() {
		d.rd.Reset(nil)
		d.dec.Reset(&d.rd)
		decoders.Put(d)
	}()
	d.rd.Reset(data)
	d.dec.Reset(&d.rd, decodeOptions...)
	dec := &d.dec
	v, err := decodeValue(dec, 0, bad)
	if err == nil {
		if _, err2 := dec.ReadToken(); err2 == nil {
			err = &jsontext.SyntacticError{ByteOffset: dec.InputOffset(), Err: errors.New("unexpected data after the top-level value")}
		} else if err2 != io.EOF {
			err = err2
		}
	}
	if err != nil {
		// Outside strings a byte that is not UTF-8 stops the decoder where it
		// is; an error further on means that it was read as part of a string
		// left unfinished (finished ones are checked as they are read).
		var se *jsontext.SyntacticError
		if bad >= 0 && errors.As(err, &se) && !errors.Is(se.Err, ErrInvalidUTF8) &&
			(se.ByteOffset > bad || se.ByteOffset == bad && errors.Is(se.Err, io.ErrUnexpectedEOF)) {
			err = invalidUTF8(bad, string(se.JSONPointer))
		}
		return nil, syntaxError(data, err)
	}
	if bad >= 0 { // unreachable: the bad byte was read, so refused, or an error
		return nil, syntaxError(data, invalidUTF8(bad, ""))
	}
	return v, nil
}

func invalidUTF8(off int64, ptr string) error {
	return &jsontext.SyntacticError{ByteOffset: off, JSONPointer: jsontext.Pointer(ptr), Err: ErrInvalidUTF8}
}

// checkUTF8 refuses the string just read by dec when it holds the offset
// bad. A member name is reported at its object.
func checkUTF8(dec *jsontext.Decoder, bad int64, name bool) error {
	if bad < 0 || dec.InputOffset() <= bad {
		return nil
	}
	ptr := string(dec.StackPointer())
	if name {
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
	return invalidUTF8(bad, ptr)
}

// MaxDepth bounds the nesting of decoded values.
const MaxDepth = 512

func decodeValue(dec *jsontext.Decoder, depth int, bad int64) (any, error) {
	if depth > MaxDepth {
		return nil, &jsontext.SyntacticError{ByteOffset: dec.InputOffset(), Err: fmt.Errorf("nesting deeper than %d levels", MaxDepth)}
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return nil, nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case '"':
		if err := checkUTF8(dec, bad, false); err != nil {
			return nil, err
		}
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case '[':
		arr := make([]any, 0, 4)
		for dec.PeekKind() != ']' {
			v, err := decodeValue(dec, depth+1, bad)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return arr, nil
	case '{':
		obj := NewObject(4)
		for dec.PeekKind() != '}' {
			kt, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			if err := checkUTF8(dec, bad, true); err != nil {
				return nil, err
			}
			key := kt.String()
			v, err := decodeValue(dec, depth+1, bad)
			if err != nil {
				return nil, err
			}
			obj.Set(key, v)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return obj, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func syntaxError(data []byte, err error) error {
	var se *jsontext.SyntacticError
	off := int64(len(data))
	msg := err.Error()
	if errors.As(err, &se) {
		off = se.ByteOffset
		if se.Err != nil {
			msg = se.Err.Error()
		}
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "unexpected end of JSON input"
	}
	line, col := LineCol(data, off)
	e := &SyntaxError{Offset: off, Line: line, Column: col, Msg: msg}
	if se != nil && errors.Is(se.Err, ErrInvalidUTF8) {
		e.Pointer = string(se.JSONPointer)
	}
	return e
}

// LineCol converts a byte offset in data to a 1-based line and column.
func LineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// Append appends the compact JSON encoding of v to dst. Strings are escaped
// as JSON.stringify escapes them (no HTML escaping); json.Number is written
// as given.
func Append(dst []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return jsontext.AppendQuote(dst, x)
	case json.Number:
		if x == "" {
			return append(dst, '0'), nil
		}
		return append(dst, x...), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...), nil // as JSON.stringify
		}
		return jsontext.AppendFloat(dst, x, 64), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = Append(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = jsontext.AppendQuote(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case *Object, map[string]any, map[string]string:
		dst = append(dst, '{')
		first := true
		Range(x, func(k string, val any) bool {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if dst, err = jsontext.AppendQuote(dst, k); err != nil {
				return false
			}
			dst = append(dst, ':')
			dst, err = Append(dst, val)
			return err == nil
		})
		if err != nil {
			return dst, err
		}
		return append(dst, '}'), nil
	case json.RawMessage:
		return append(dst, x...), nil
	}
	return dst, fmt.Errorf("jsonv: cannot encode %T", v)
}

// Marshal returns the compact JSON encoding of v.
func Marshal(v any) ([]byte, error) { return Append(nil, v) }

// Clone returns a deep copy of v, so that a caller may change it freely.
func Clone(v any) any {
	switch x := v.(type) {
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = Clone(e)
		}
		return c
	case *Object:
		c := NewObject(len(x.Members))
		for _, m := range x.Members {
			c.Members = append(c.Members, Member{m.Key, Clone(m.Value)})
		}
		if x.index != nil {
			c.index = make(map[string]int, len(x.index))
			for k, i := range x.index {
				c.index[k] = i
			}
		}
		return c
	case map[string]any:
		c := NewObject(len(x))
		Range(x, func(k string, val any) bool { c.Set(k, Clone(val)); return true })
		return c
	case map[string]string:
		c := NewObject(len(x))
		Range(x, func(k string, val any) bool { c.Set(k, val); return true })
		return c
	}
	return v
}

// Locate maps JSON pointers into data to their line and column (1-based):
// the position of a member's name, or of an array element's value. It reads
// data once; pointers not in data are absent from the map.
func Locate(data []byte) map[string][2]int {
	out := map[string][2]int{}
	dec := jsontext.NewDecoder(bytes.NewReader(data), decodeOptions...)
	for {
		off := dec.InputOffset()
		if _, err := dec.ReadToken(); err != nil {
			return out
		}
		ptr := string(dec.StackPointer())
		if _, seen := out[ptr]; seen {
			continue
		}
		for off < int64(len(data)) {
			c := data[off]
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' && c != ':' {
				break
			}
			off++
		}
		line, col := LineCol(data, off)
		out[ptr] = [2]int{line, col}
	}
}
