package runner

import (
	"maps"
	"slices"

	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// The seed platform answers a command run with a JSON:API document (its
// public Cache Fallback Mode documentation shows it), and code written for
// it reads that shape. A run request with Accept: application/vnd.api+json
// gets it (SPEC 4.7): the same run, described as the seed platform
// describes it, with every secret value redacted from the request headers.

// envelope builds the seed platform's command_run_response document from
// a run's answer and the request that was sent.
func envelope(cmd *appdef.Command, req *CommandRequest, c *call, a Answer) ([]byte, error) {
	doc, err := jsonv.Decode(a.Bytes())
	if err != nil {
		return nil, err
	}
	run, _ := doc.(*jsonv.Object)
	get := func(k string) any {
		if run == nil {
			return nil
		}
		v, _ := run.Get(k)
		return v
	}
	args := jsonv.NewObject(len(req.Args))
	for _, k := range slices.Sorted(maps.Keys(req.Args)) {
		args.Set(k, req.Args[k])
	}
	headers := jsonv.NewObject(len(c.headers))
	for _, h := range c.headers {
		headers.Set(h.Name, c.redact.String(h.Value))
	}
	attrs := jsonv.NewObject(8)
	attrs.Set("commandId", cmd.Name)
	attrs.Set("statusCode", get("status"))
	attrs.Set("args", args)
	attrs.Set("url", c.redact.String(c.rawURL))
	attrs.Set("requestHeaders", headers)
	attrs.Set("responseHeaders", get("headers"))
	attrs.Set("responseBody", get("body"))
	attrs.Set("cacheFallback", a.Fallback)
	data := jsonv.NewObject(3)
	data.Set("type", "command_run_response")
	data.Set("attributes", attrs)
	data.Set("relationships", jsonv.NewObject(0))
	out := jsonv.NewObject(1)
	out.Set("data", data)
	return jsonv.Marshal(out)
}
