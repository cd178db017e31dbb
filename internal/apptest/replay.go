package apptest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/mock"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// replay answers a case's requests from its recorded response, with each
// [secret:name] put back to the case's value so that the instance redacts
// it as it would in a live answer; without one, from the file's routes, as
// `switchboard mock` would answer.
func (t *tester) replay(c *Case, secrets []secret) answerFunc {
	return func(ctx context.Context, req *captured) (*Response, error) {
		switch {
		case c.Response != nil:
			return unscrub(c.Response, secrets), nil
		case t.o.File.Mock != nil:
			return serveMock(t.o.File.Mock, req), nil
		}
		h := http.Header{"Content-Type": {"application/json"}}
		return &Response{Status: http.StatusNotFound, Header: h, Body: map[string]any{
			"error": "apps test: this case has no recorded response and the fixtures file has no routes; add routes, or record one with apps test --record"}}, nil
	}
}

// record forwards a case's requests to the live upstream and keeps each
// answer in the file, scrubbed; the instance gets the answer as it came.
func (t *tester) record(c *Case, secrets []secret) answerFunc {
	return func(ctx context.Context, req *captured) (*Response, error) {
		u, err := url.Parse(req.URL)
		if err != nil {
			return nil, err
		}
		h := req.Header.Clone()
		// The live client asks for compression itself, and then undoes it;
		// forwarded, the header would make it keep the compressed bytes.
		h.Del("Accept-Encoding")
		resp, err := t.live.Do(ctx, &outbound.Request{Method: req.Method, URL: u, Header: h, Body: req.Body})
		if err != nil {
			t.liveErr = err
			return nil, err
		}
		t.o.File.SetResponse(c, scrubResponse(resp, req, secrets))
		t.recorded = true
		return &Response{Status: resp.Status, Header: resp.Header, raw: resp.Body}, nil
	}
}

// serveMock answers a request with the file's routes.
func serveMock(m *mock.Mock, req *captured) *Response {
	r := httptest.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
	r.Header = req.Header.Clone()
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, r)
	return &Response{Status: rec.Code, Header: rec.Header(), raw: rec.Body.Bytes()}
}

// scrubbed stands for a credential the request carried in a header.
const scrubbed = "[scrubbed]"

// scrubResponse is what a recording keeps of a live answer: no Date or
// length, no cookies, and no secret or credential of the request anywhere
// in its headers or body.
func scrubResponse(resp *outbound.Response, req *captured, secrets []secret) *Response {
	replace := replacer(req, secrets)
	out := &Response{Status: resp.Status, Header: http.Header{}}
	for k, vs := range resp.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Date", "Content-Length", "Transfer-Encoding", "Connection":
			continue
		case "Set-Cookie", "Authorization", "Proxy-Authorization", "Cookie":
			out.Header[k] = []string{scrubbed}
			continue
		}
		for _, v := range vs {
			out.Header.Add(k, replace(v))
		}
	}
	if len(resp.Body) == 0 {
		return out
	}
	if isJSON(resp.Header.Get("Content-Type")) {
		if v, err := jsonv.Decode(resp.Body); err == nil {
			out.Body = mapStrings(v, replace)
			return out
		}
	}
	out.Body = replace(string(resp.Body))
	return out
}

// replacer replaces each secret's value with [secret:name], then each
// credential the request sent (Authorization, Proxy-Authorization, Cookie:
// the whole value, and an Authorization's credentials after its scheme)
// with [scrubbed].
func replacer(req *captured, secrets []secret) func(string) string {
	var first, then []string
	for _, s := range secrets {
		first = append(first, s.value, "[secret:"+s.name+"]")
	}
	for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		for _, v := range req.Header.Values(name) {
			if v == "" {
				continue
			}
			then = append(then, v, scrubbed)
			if _, cred, ok := strings.Cut(v, " "); ok && name != "Cookie" && len(cred) > 0 {
				then = append(then, cred, scrubbed)
			}
		}
	}
	// Secrets first, so that an echoed "Bearer <secret>" keeps its name;
	// a credential that is no setting's value goes whole.
	r1, r2 := strings.NewReplacer(first...), strings.NewReplacer(then...)
	return func(s string) string { return r2.Replace(r1.Replace(s)) }
}

// unscrub puts the case's secret values back into a recorded response.
func unscrub(resp *Response, secrets []secret) *Response {
	var pairs []string
	seen := map[string]bool{}
	for _, s := range secrets {
		if !seen[s.name] {
			seen[s.name] = true
			pairs = append(pairs, "[secret:"+s.name+"]", s.value)
		}
	}
	if len(pairs) == 0 {
		return resp
	}
	r := strings.NewReplacer(pairs...)
	out := &Response{Status: resp.Status, Header: http.Header{}}
	for k, vs := range resp.Header {
		for _, v := range vs {
			out.Header.Add(k, r.Replace(v))
		}
	}
	out.Body = mapStrings(jsonv.Clone(resp.Body), r.Replace)
	return out
}

// mapStrings replaces every string inside a JSON value (in place) with
// fn's result.
func mapStrings(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case []any:
		for i := range x {
			x[i] = mapStrings(x[i], fn)
		}
	case *jsonv.Object:
		for i := range x.Members {
			x.Members[i].Value = mapStrings(x.Members[i].Value, fn)
		}
	}
	return v
}

func isJSON(contentType string) bool {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	ct = strings.TrimSpace(ct)
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

// checkRequest checks what the upstream received against what the case
// expects: the last request (a run sends one; a redirect or an OAuth
// retry, more).
func checkRequest(c *Case, got []*captured, secrets []secret) []Mismatch {
	if c.Expect.NoRequest {
		if len(got) > 0 {
			r := got[0]
			return []Mismatch{{Part: "request", Want: "no request at all", Got: r.Method + " " + hideSecrets(r.URL, secrets)}}
		}
		return nil
	}
	if c.Expect.Request == nil {
		return nil
	}
	if len(got) == 0 {
		return []Mismatch{{Part: "request", Want: show(c.Expect.Request), Got: "nothing: no request was sent"}}
	}
	return matchDocument("request", c.Expect.Request, requestDoc(got[len(got)-1], secrets))
}

// requestDoc is a request as an expectation describes it: method, url,
// headers by lower-case name and body (JSON when it parses as JSON, else
// text), each secret's value shown as [secret:name].
func requestDoc(r *captured, secrets []secret) *jsonv.Object {
	hide := func(s string) string { return hideSecrets(s, secrets) }
	doc := jsonv.NewObject(4)
	doc.Set("method", r.Method)
	doc.Set("url", hide(r.URL))
	hs := jsonv.NewObject(len(r.Header))
	for _, k := range sortedHeaderNames(r.Header) {
		hs.Set(strings.ToLower(k), hide(strings.Join(r.Header[k], ", ")))
	}
	doc.Set("headers", hs)
	if len(r.Body) > 0 {
		if v, err := jsonv.Decode(r.Body); err == nil {
			doc.Set("body", mapStrings(v, hide))
		} else {
			doc.Set("body", hide(string(r.Body)))
		}
	}
	return doc
}

func hideSecrets(s string, secrets []secret) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec.value, "[secret:"+sec.name+"]")
	}
	return s
}
