package loadgen

import (
	"fmt"
	"strings"
	"time"
)

// TargetResults are the results of one target, in scenario order.
type TargetResults struct {
	Target  string
	Results []Result
}

// Markdown renders a comparison run as the section appended to
// docs/benchmarks.md: one column per target, then the ratios of the first
// target (Riffle) to each other one, then every note. With one target it is
// a plain table with notes.
func Markdown(runs []TargetResults, header string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine())
	if header != "" {
		b.WriteString(header + "\n\n")
	}
	if len(runs) == 0 {
		return b.String()
	}
	// Rows in the order scenarios first appear, over every target.
	var keys []string
	names := map[string]string{}
	lower := map[string]bool{}
	cell := map[string]map[string]Result{}
	for _, run := range runs {
		cell[run.Target] = map[string]Result{}
		for _, r := range run.Results {
			if _, ok := names[r.Key]; !ok {
				keys = append(keys, r.Key)
				names[r.Key] = r.Scenario
			}
			if r.LowerIsBetter {
				lower[r.Key] = true
			}
			cell[run.Target][r.Key] = r
		}
	}
	first := runs[0].Target
	b.WriteString("| scenario |")
	for _, run := range runs {
		fmt.Fprintf(&b, " %s |", run.Target)
	}
	for _, run := range runs[1:] {
		fmt.Fprintf(&b, " %s/%s |", first, run.Target)
	}
	b.WriteString("\n|---|")
	for range len(runs)*2 - 1 {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, k := range keys {
		name := names[k]
		if lower[k] {
			name += " (lower is better)"
		}
		fmt.Fprintf(&b, "| %s |", name)
		for _, run := range runs {
			fmt.Fprintf(&b, " %s |", cellText(cell[run.Target][k]))
		}
		for _, run := range runs[1:] {
			fmt.Fprintf(&b, " %s |", ratio(cell[first][k], cell[run.Target][k]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nNotes:\n\n")
	for _, run := range runs {
		for _, k := range keys {
			r, ok := cell[run.Target][k]
			if !ok || r.Skipped != "" || (r.Note == "" && r.Err == "") {
				continue
			}
			text := r.Note
			if r.Err != "" {
				text = "FAILED: " + truncate(r.Err, 300) + "; " + r.Note
			}
			fmt.Fprintf(&b, "- %s, %s: %s\n", run.Target, names[k], strings.TrimSuffix(text, "; "))
		}
	}
	var skipped []string
	for _, run := range runs {
		for _, k := range keys {
			if r, ok := cell[run.Target][k]; ok && r.Skipped != "" {
				skipped = append(skipped, fmt.Sprintf("%s, %s: %s", run.Target, names[k], r.Skipped))
			}
		}
	}
	if len(skipped) > 0 {
		b.WriteString("\nSkipped:\n\n")
		for _, s := range skipped {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	return b.String()
}

// cellText is a result as a table cell: the figure, or why there is none.
func cellText(r Result) string {
	switch {
	case r.Key == "":
		return "—"
	case r.Err != "":
		return "FAILED"
	case r.Skipped != "":
		return "skipped"
	}
	return fmtValue(r.Value) + " " + r.Unit
}

// ratio is a/b for two valid, non-zero figures.
func ratio(a, b Result) string {
	if a.Key == "" || b.Key == "" || a.Err != "" || b.Err != "" || a.Skipped != "" || b.Skipped != "" || b.Value == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a.Value/b.Value)
}

func fmtValue(v float64) string {
	switch {
	case v >= 1000 || v == float64(int64(v)):
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
