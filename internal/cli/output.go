package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
)

// Output formats of every list and show command.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

func addOutputFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVarP(target, "output", "o", formatTable, "output format: table, json or yaml")
	cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{formatTable, formatJSON, formatYAML}, cobra.ShellCompDirectiveNoFileComp
	})
}

func checkFormat(f string) error {
	switch f {
	case formatTable, formatJSON, formatYAML:
		return nil
	}
	return usageError(fmt.Errorf("unknown output format %q: use table, json or yaml", f))
}

// export writes v as JSON or YAML; it reports false for table output.
func export(w io.Writer, format string, v any) (bool, error) {
	switch format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return true, enc.Encode(v)
	case formatYAML:
		b, err := json.Marshal(v)
		if err != nil {
			return true, err
		}
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return true, err
		}
		_, err = w.Write(y)
		return true, err
	}
	return false, nil
}

// table prints rows: aligned on a terminal, tab-separated otherwise (for scripts).
type table struct {
	w   io.Writer
	tty bool
	tw  *tabwriter.Writer
}

func newTable(ios *IOStreams, headers ...string) *table {
	t := &table{w: ios.Out, tty: ios.TTY}
	if t.tty {
		t.tw = tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
		t.row(headers...)
	} else {
		fmt.Fprintln(ios.Out, strings.ToLower(strings.Join(headers, "\t")))
	}
	return t
}

func (t *table) row(cells ...string) {
	line := strings.Join(cells, "\t") + "\n"
	if t.tty {
		io.WriteString(t.tw, line)
		return
	}
	io.WriteString(t.w, line)
}

func (t *table) flush() {
	if t.tw != nil {
		t.tw.Flush()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
