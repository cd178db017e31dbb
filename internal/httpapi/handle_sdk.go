package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// The SDK's media types. text/javascript is the one RFC 9239 names
// (browsers refuse a module script of a type that is not JavaScript's);
// TypeScript has no registered type, and application/typescript is the
// one Deno and TypeScript's tooling recognize.
const (
	javascriptType = "text/javascript; charset=utf-8"
	typescriptType = "application/typescript; charset=utf-8"
)

// sdkCacheControl: the SDK's files change only with the binary, which a
// deployment replaces without renaming the paths; a short max-age bounds
// how long a browser keeps an old copy, and the ETag makes revalidating a
// 304.
const sdkCacheControl = "public, max-age=300"

// handleSDKFile serves one of the SDK's embedded files (package sdk). It is
// a static public file, so it is the one kind of route that answers any
// origin: a module script from another origin loads only with
// Access-Control-Allow-Origin, and `*` (never with credentials) gives
// nothing away. The ETag is computed once, here.
func handleSDKFile(body []byte, contentType string) http.Handler {
	sum := sha256.Sum256(body)
	etag := []string{`"` + hex.EncodeToString(sum[:16]) + `"`}
	ctype := []string{contentType}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = ctype
		h["Cache-Control"] = []string{sdkCacheControl}
		h["Etag"] = etag
		h["Access-Control-Allow-Origin"] = []string{"*"}
		h["X-Content-Type-Options"] = []string{"nosniff"}
		// ServeContent answers If-None-Match with a 304, HEAD without a
		// body, and Range requests.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
