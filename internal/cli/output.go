package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/spf13/cobra"
)

// The output conventions every command that prints data follows (gh and
// kubectl users expect them):
//
//   - -o json or --json prints the API's own JSON answer, indented on a
//     terminal and compact in a pipe;
//   - -o table prints a table;
//   - with neither, a command prints a table on a terminal and JSON in a
//     pipe, where a script reads it; a document with no table form (a run,
//     an app's definition) is JSON either way.
//
// A command calls e.show with the API's answer and, when it has one, a
// function that writes its table; nothing else decides the format.

// output holds the root's -o and --json flags.
type output struct {
	format string // "", "json" or "table"
	json   bool
}

// addOutputFlags puts -o and --json on every command.
func addOutputFlags(root *cobra.Command, o *output) {
	root.PersistentFlags().StringVarP(&o.format, "output", "o", "", "the output format: table or json (default: a table on a terminal, JSON in a pipe)")
	root.PersistentFlags().BoolVar(&o.json, "json", false, "print JSON (the same as -o json)")
}

// asJSON reports whether data goes out as JSON rather than as a table.
func (o *output) asJSON(w io.Writer) (bool, error) {
	switch strings.ToLower(o.format) {
	case "json":
		return true, nil
	case "table":
		if o.json {
			return false, usageErrorf("-o table and --json disagree: give one of them")
		}
		return false, nil
	case "":
		return o.json || !isTerminal(w), nil
	default:
		return false, usageErrorf("-o %q: the output formats are table and json", o.format)
	}
}

// show prints data, a JSON document as the API answered it, in the chosen
// format: table writes its table form (nil when it has none, and then the
// document is printed as JSON).
func (e *env) show(data json.RawMessage, table func(t *tableWriter) error) error {
	asJSON, err := e.out.asJSON(e.stdout)
	if err != nil {
		return err
	}
	if asJSON || table == nil {
		return printJSON(e.stdout, data)
	}
	t := newTable(e.stdout)
	if err := table(t); err != nil {
		return err
	}
	return t.flush()
}

// showValue is show for a value the CLI holds rather than an answer as it
// came: it is marshalled as it is.
func (e *env) showValue(v any, table func(t *tableWriter) error) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.show(data, table)
}

// tableWriter writes aligned columns; a cell's tabs and newlines are
// replaced by spaces so that a value cannot break the table.
type tableWriter struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *tableWriter {
	return &tableWriter{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
}

var cellReplacer = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

// row writes one line; an empty cell prints as "-".
func (t *tableWriter) row(cells ...any) {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte('\t')
		}
		s := fmt.Sprint(c)
		if s == "" {
			s = "-"
		}
		b.WriteString(cellReplacer.Replace(s))
	}
	b.WriteByte('\n')
	io.WriteString(t.tw, b.String())
}

func (t *tableWriter) flush() error { return t.tw.Flush() }

// decodeItems decodes the items of a list answer ({"items": [...]}).
func decodeItems[T any](data json.RawMessage) ([]T, error) {
	var doc struct {
		Items []T `json:"items"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the server's answer is not a list: %w", err)
	}
	return doc.Items, nil
}

// showText is show for output whose natural form is a few lines of text
// (a version, a confirmation): the text unless -o json or --json asks for
// JSON, on a terminal or not.
func (e *env) showText(v any, text func(t *tableWriter) error) error {
	if _, err := e.out.asJSON(e.stdout); err != nil {
		return err
	}
	if strings.ToLower(e.out.format) == "json" || e.out.json {
		return e.showValue(v, nil)
	}
	t := newTable(e.stdout)
	if err := text(t); err != nil {
		return err
	}
	return t.flush()
}

// isTerminalReader reports whether r is a terminal (a prompt can be
// shown on it).
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
