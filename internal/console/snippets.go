package console

import (
	"encoding/json"
	"strings"
)

// snippets returns the curl, CLI and SDK calls that make the same run as
// the playground's form. Secrets never appear in them: the key is
// $SWITCHBOARD_KEY, and header templates stay templates.
func snippets(server, kind, name string, args, headers [][2]string, body string) (curl, cli, sdk string) {
	body = strings.TrimSpace(body)
	var compact string
	if body != "" {
		var v json.RawMessage
		if json.Unmarshal([]byte(body), &v) == nil {
			b, _ := json.Marshal(v) // compact, member order kept
			compact = string(b)
		}
	}
	if kind == "action" {
		input := compact
		if input == "" {
			input = "{}"
		}
		curl = "curl -sS -X POST " + shellQuote(server+"/v1/actions/"+name+"/run") + " \\\n" +
			"  -H \"Authorization: Bearer $SWITCHBOARD_KEY\" -H 'Content-Type: application/json' \\\n" +
			"  -d " + shellQuote(`{"input":`+input+`}`)
		cli = "switchboard actions run " + shellQuote(name)
		if compact != "" {
			cli += " --input " + shellQuote(compact)
		}
		sdk = "// The browser SDK runs commands; actions run from workflows and the REST API."
		return curl, cli, sdk
	}

	req := map[string]any{}
	var order []string
	if len(args) > 0 {
		m := map[string]string{}
		for _, a := range args {
			m[a[0]] = a[1]
		}
		req["args"] = m
		order = append(order, "args")
	}
	if len(headers) > 0 {
		m := map[string]string{}
		for _, h := range headers {
			m[h[0]] = h[1]
		}
		req["headers"] = m
		order = append(order, "headers")
	}
	if compact != "" {
		req["body"] = json.RawMessage(compact)
		order = append(order, "body")
	}
	doc := "{"
	for i, k := range order {
		if i > 0 {
			doc += ","
		}
		b, _ := json.Marshal(req[k])
		doc += `"` + k + `":` + string(b)
	}
	doc += "}"
	curl = "curl -sS -X POST " + shellQuote(server+"/v1/commands/"+name+"/run") + " \\\n" +
		"  -H \"Authorization: Bearer $SWITCHBOARD_KEY\" -H 'Content-Type: application/json' \\\n" +
		"  -d " + shellQuote(doc)
	cli = "switchboard commands run " + shellQuote(name)
	for _, a := range args {
		cli += " \\\n  --arg " + shellQuote(a[0]+"="+a[1])
	}
	for _, h := range headers {
		cli += " \\\n  --header " + shellQuote(h[0]+"="+h[1])
	}
	if compact != "" {
		cli += " \\\n  --body " + shellQuote(compact)
	}
	opts := []string{}
	if compact != "" {
		opts = append(opts, "body: "+compact)
	}
	if len(headers) > 0 {
		b, _ := json.Marshal(req["headers"])
		opts = append(opts, "headers: "+string(b))
	}
	if len(args) > 0 {
		b, _ := json.Marshal(req["args"])
		opts = append(opts, "urlArgs: "+string(b))
	}
	js, _ := json.Marshal(name)
	sdk = "const sb = Switchboard.connect({server: " + jsString(server) + ", token})\n" +
		"const run = await sb.command.run(" + string(js) + ", {" + strings.Join(opts, ", ") + "})"
	return curl, cli, sdk
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
