package dashboard

import (
	"fmt"
	"io"
	"strings"
)

// writeEvent writes one Server-Sent Event: its name and its data, one
// "data:" line per line of data, ended by a blank line. A name or data
// line holding a carriage return would end its field early, so both are
// single-line by construction; the name may not be empty.
func writeEvent(w io.Writer, name, data string) error {
	if name == "" || strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("sse: event name %q: want one non-empty line", name)
	}
	var b strings.Builder
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	for line := range strings.SplitSeq(strings.ReplaceAll(data, "\r", ""), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// writeComment writes an SSE comment line (a keep-alive the browser ignores).
func writeComment(w io.Writer, text string) error {
	_, err := fmt.Fprintf(w, ": %s\n\n", strings.ReplaceAll(strings.ReplaceAll(text, "\r", ""), "\n", " "))
	return err
}

// writeRetry tells the browser how long to wait before reconnecting.
func writeRetry(w io.Writer, ms int) error {
	_, err := fmt.Fprintf(w, "retry: %d\n\n", ms)
	return err
}
