package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Body size caps. A larger body is a 413, never a crash.
const (
	MaxDefinitionBytes = 5 << 20
	MaxRunBytes        = 5 << 20
	MaxSmallBytes      = 1 << 20
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads a request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	buf, err := readPooled(w, r, limit)
	if err != nil {
		return nil, err
	}
	defer putBuffer(buf)
	return bytes.Clone(buf.Bytes()), nil
}

// readPooled reads a request body into a pooled buffer, which the caller
// puts back with putBuffer when done with it. The buffer grows as bytes
// arrive, never to the Content-Length a client claims.
func readPooled(w http.ResponseWriter, r *http.Request, limit int64) (*bytes.Buffer, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	if r.Body == nil || r.Body == http.NoBody {
		return buf, nil
	}
	ri := info(w)
	if ri.bodies != nil {
		perKey, err := ri.bodies.acquire(ri.principal)
		if err != nil {
			putBuffer(buf)
			return nil, err
		}
		defer ri.bodies.release(perKey)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		putBuffer(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
				Detail: "the request body did not arrive in time (the server's --read-timeout); send it whole, at once", Err: err}
		}
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the request body could not be read", Err: err}
	}
	return buf, nil
}

// putBuffer returns a buffer to the pool unless it grew large.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		bufPool.Put(buf)
	}
}

func tooLarge(limit int64) error {
	return switchboard.Errorf(switchboard.CodePayloadTooLarge, "the request body is larger than this route's limit of %d MiB; send less (for a definition: fewer or smaller components)", limit>>20)
}

// decode reads a JSON request body into v (a struct), refusing unknown
// fields so that a misspelt field is an error, not silently ignored.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	data, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // an empty body is an empty request
	}
	if !utf8.Valid(data) {
		// encoding/json would replace the bytes with U+FFFD; jsonv says where
		// they are. It always fails here: the error is never nil.
		_, err := jsonv.DecodeStrict(data)
		if err == nil {
			err = jsonv.ErrInvalidUTF8
		}
		return decodeError(data, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return decodeError(data, err)
	}
	if dec.More() {
		return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the request body has data after its JSON value"}
	}
	return nil
}

// decodeValue reads a JSON request body as an ordered value.
func decodeValue(w http.ResponseWriter, r *http.Request, limit int64) (any, error) {
	buf, err := readPooled(w, r, limit)
	if err != nil {
		return nil, err
	}
	defer putBuffer(buf)
	v, err := jsonv.DecodeStrict(buf.Bytes()) // the value does not share the buffer's memory
	if err != nil {
		return nil, decodeError(buf.Bytes(), err)
	}
	return v, nil
}

func decodeError(data []byte, err error) error {
	p := switchboard.Problem{Message: err.Error()}
	var se *jsonv.SyntaxError
	var jse *json.SyntaxError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		p = switchboard.Problem{Message: se.Msg, Location: se.Pointer, Line: se.Line, Column: se.Column}
	case errors.As(err, &jse):
		p.Line, p.Column = jsonv.LineCol(data, jse.Offset)
		p.Message = jse.Error()
	case errors.As(err, &ute):
		p.Location = "/" + strings.ReplaceAll(ute.Field, ".", "/")
		p.Message = fmt.Sprintf("must be %s, not %s", jsonType(ute.Type.Kind().String()), ute.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p.Location = "/" + field
		p.Message = "unknown field " + field
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		p.Message = "unexpected end of JSON input"
	}
	return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the request body is not valid: " + p.Message, Problems: []switchboard.Problem{p}}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return "a number"
}

// encode writes v as JSON with status.
func encode(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer putBuffer(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"code":"internal"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeRaw writes JSON bytes already encoded.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var jsonContentType = []string{"application/json"}

var jsonPointerReplacer = strings.NewReplacer("~", "~0", "/", "~1")
