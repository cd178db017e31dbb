package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

// exportProgressEvery is how many entries pass between progress lines.
const exportProgressEvery = 10000

// auditExportCommand is `switchboard audit export`: every matching entry of
// the key's org as JSON lines, oldest first, for archiving.
//
// The API lists newest first; to write oldest first without holding the
// whole range in memory, the pages are spooled to a temporary file as they
// come and then written back page by page, last page first, each page's
// lines reversed. Entries written during the export are newer than its first
// page and are left out, so that an export is one consistent range.
func auditExportCommand(e *env, cc *clientConfig) *cobra.Command {
	var q client.AuditQuery
	var since, until string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write audit entries as JSON lines, oldest first, for archiving",
		Long: `Write every audit entry of the key's org that matches the filters to standard output,
one JSON object per line (the API's entry, as GET /v1/audit-logs answers it), oldest
first, following every page. Progress goes to standard error. Without --since it
starts at the oldest entry kept (see serve --audit-retention); without --until it
ends now.`,
		Example: `  switchboard audit export --since 2026-10-01T00:00:00Z --until 2026-11-01T00:00:00Z > audit-2026-10.jsonl
  switchboard audit export --since 24h --event fallback_on`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if q.Since, err = parseTime(since, "--since"); err != nil {
				return err
			}
			if q.Until, err = parseTime(until, "--until"); err != nil {
				return err
			}
			spool, err := os.CreateTemp("", "switchboard-audit-export-*")
			if err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			defer func() {
				spool.Close()
				os.Remove(spool.Name())
			}()
			c := cc.client(e)
			var pages []int64 // the offset each page ends at in the spool
			var offset int64
			total := 0
			w := bufio.NewWriter(spool)
			var line bytes.Buffer
			for {
				page, next, err := c.AuditLogsRaw(cmd.Context(), q)
				if err != nil {
					return err
				}
				for _, raw := range page {
					line.Reset()
					if err := json.Compact(&line, raw); err != nil {
						return fmt.Errorf("audit export: the server sent an entry that is not JSON: %w", err)
					}
					line.WriteByte('\n')
					n, _ := w.Write(line.Bytes())
					offset += int64(n)
					total++
					if total%exportProgressEvery == 0 {
						fmt.Fprintf(e.stderr, "read %d entries\n", total)
					}
				}
				pages = append(pages, offset)
				if next == "" {
					break
				}
				q.Cursor = next
			}
			if err := w.Flush(); err != nil {
				return fmt.Errorf("audit export: spool: %w", err)
			}
			if err := writeReversed(e.stdout, spool, pages); err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
			fmt.Fprintf(e.stderr, "exported %d entries\n", total)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Command, "command", "", "only entries of this command (any spelling)")
	f.StringVar(&q.Event, "event", "", "only entries of this event: run, fallback_on or fallback_off")
	f.StringVar(&since, "since", "", "entries at or after: RFC 3339 or a duration ago such as 720h")
	f.StringVar(&until, "until", "", "entries before: RFC 3339 or a duration ago")
	f.IntVar(&q.Limit, "limit", 1000, "entries per request (1 to 1000)")
	return cmd
}

// writeReversed writes the lines of spool to w in reverse order: the pages
// (ending at the offsets in ends) last first, each one's lines last first.
func writeReversed(w io.Writer, spool io.ReaderAt, ends []int64) error {
	out := bufio.NewWriter(w)
	var buf []byte
	for i := len(ends) - 1; i >= 0; i-- {
		start := int64(0)
		if i > 0 {
			start = ends[i-1]
		}
		size := int(ends[i] - start)
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if n, err := spool.ReadAt(buf, start); n < size {
			return fmt.Errorf("spool: %w", err)
		}
		for len(buf) > 0 {
			j := bytes.LastIndexByte(buf[:len(buf)-1], '\n') + 1 // the last line's start
			if _, err := out.Write(buf[j:]); err != nil {
				return err
			}
			buf = buf[:j]
		}
	}
	return out.Flush()
}
