package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/sdk"
)

// The SDK's files: served from the binary to anyone, with their media
// types, a validator and a short max-age, and loadable by a page on any
// origin (the only routes that send a CORS header to any origin).
func TestSDKFiles(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{})
	files := []struct {
		path, contentType string
		body              []byte
	}{
		{"/sdk/v1/switchboard.js", "text/javascript; charset=utf-8", sdk.JS},
		{"/sdk/v1/switchboard.mjs", "text/javascript; charset=utf-8", sdk.MJS},
		{"/sdk/v1/switchboard.d.ts", "application/typescript; charset=utf-8", sdk.DTS},
	}
	etags := map[string]bool{}
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			if len(f.body) == 0 {
				t.Fatal("the embedded file is empty")
			}
			res, body := mustGetFile(t, env.URL+f.path, nil)
			if res.StatusCode != 200 || !bytes.Equal(body, f.body) {
				t.Fatalf("GET = %d, %d bytes; want 200 and the embedded file's %d bytes", res.StatusCode, len(body), len(f.body))
			}
			for name, want := range map[string]string{
				"Content-Type":                f.contentType,
				"Cache-Control":               "public, max-age=300",
				"Access-Control-Allow-Origin": "*",
				"X-Content-Type-Options":      "nosniff",
			} {
				if got := res.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			etag := res.Header.Get("ETag")
			if len(etag) < 10 || etag[0] != '"' || etags[etag] {
				t.Errorf("ETag = %q, want a quoted validator of this file alone", etag)
			}
			etags[etag] = true

			res, body = mustGetFile(t, env.URL+f.path, http.Header{"If-None-Match": {etag}})
			if res.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("GET If-None-Match: its ETag = %d with %d bytes, want 304 and no body", res.StatusCode, len(body))
			}
			res, _ = mustGetFile(t, env.URL+f.path, http.Header{"If-None-Match": {`"other"`}})
			if res.StatusCode != 200 {
				t.Errorf("GET If-None-Match: another ETag = %d, want 200", res.StatusCode)
			}
		})
	}
	t.Run("no other route answers any origin", func(t *testing.T) {
		res, _ := mustGetFile(t, env.URL+"/healthz", http.Header{"Origin": {"https://elsewhere.example"}})
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("/healthz: Access-Control-Allow-Origin = %q, want none", got)
		}
	})
	t.Run("another file under /sdk/ is not found", func(t *testing.T) {
		res, _ := mustGetFile(t, env.URL+"/sdk/v1/other.js", nil)
		if res.StatusCode != 404 || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET /sdk/v1/other.js = %d (Access-Control-Allow-Origin %q), want 404 with no CORS header",
				res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

func mustGetFile(t *testing.T, url string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}
