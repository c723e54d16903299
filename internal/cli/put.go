package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spf13/cobra"
)

// PutRecords limits (the Kinesis API's): records per call and bytes per call,
// counting data and partition keys.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 5 << 20
	defaultMaxKiB   = 1024
	maxKeyChars     = 256
)

// defaultKeyTemplate spreads records over shards deterministically.
const defaultKeyTemplate = "{{.Line}}"

const putLong = `Write records to STREAM, one per input line, in PutRecords batches of at most
500 records and 5 MiB.

Input is standard input, or --file. Each line (without its trailing newline;
a carriage return is kept) is one record, so 'riffle tail --format raw' gives
the input back. With --json each non-blank line must be one JSON document; it
is stored as written.

The partition key is --partition-key, a Go template evaluated per record:
  {{.Line}}     the input line number, from 1 (the default template)
  {{.Record}}   the record number, from 1 (blank lines skipped in --json mode)
  {{.Random}}   32 random hex digits
  {{.Data}}     the line itself
  {{mod .Line 8}}  a number from 0 to 7 (mod N spreads over N keys)
A value without "{{" is a fixed key: all records go to one shard, in order.
With --json, --key-field FIELD takes the key from a field of each document
(a.b.c for nested objects; strings as they are, numbers and booleans as
written).

Entries that fail (throttling, internal errors) are retried with exponential
back-off up to --max-retries times; a retried entry may land after entries that
followed it. On a terminal, progress is shown on standard error. A summary is
printed at the end; the exit code is 1 if any record could not be written.`

type putOptions struct {
	file       string
	json       bool
	key        string
	keyField   string
	maxRetries int
	quiet      bool
}

func newPutCmd(g *globals) *cobra.Command {
	var o putOptions
	cmd := &cobra.Command{
		Use:   "put STREAM",
		Short: "Write lines or JSON documents from stdin or a file as records",
		Long:  putLong,
		Example: `  printf 'a\nb\n' | riffle put orders
  riffle put orders --file events.txt --partition-key 'user-{{mod .Line 16}}'
  riffle put orders --json --key-field customer.id < orders.jsonl`,
		Args:              exactArgs("STREAM"),
		ValidArgsFunction: g.completeStreams,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runPut(cmd.Context(), g, args[0], o, cmd.Flags().Changed("partition-key"))
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "read from this file instead of standard input")
	f.BoolVar(&o.json, "json", false, "each line is a JSON document (blank lines are skipped; invalid JSON is an error)")
	f.StringVarP(&o.key, "partition-key", "k", defaultKeyTemplate, "partition key, or a template of one (see above)")
	f.StringVar(&o.keyField, "key-field", "", "with --json: take the partition key from this field")
	f.IntVar(&o.maxRetries, "max-retries", 10, "retries of failed entries before giving up")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print no summary")
	return cmd
}

// keyData is what a partition key template sees.
type keyData struct {
	Line   int
	Record int
	Data   string
}

// Random returns 32 random hex digits.
func (keyData) Random() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyMaker computes each record's partition key.
type keyMaker struct {
	fixed    string
	tmpl     *template.Template
	keyField []string
}

func newKeyMaker(o putOptions, keyChanged bool) (*keyMaker, error) {
	if o.keyField != "" {
		if !o.json {
			return nil, usagef("--key-field needs --json")
		}
		if keyChanged {
			return nil, usagef("--key-field and --partition-key are exclusive")
		}
		return &keyMaker{keyField: strings.Split(o.keyField, ".")}, nil
	}
	if !strings.Contains(o.key, "{{") {
		if err := checkKey(o.key); err != nil {
			return nil, usagef("--partition-key: %v", err)
		}
		return &keyMaker{fixed: o.key}, nil
	}
	t, err := template.New("partition-key").Option("missingkey=error").Funcs(template.FuncMap{
		"mod": func(a, n int) int {
			if n <= 0 {
				return 0
			}
			return a % n
		},
	}).Parse(o.key)
	if err != nil {
		return nil, usagef("--partition-key: %v", err)
	}
	return &keyMaker{tmpl: t}, nil
}

func checkKey(k string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > maxKeyChars {
		return fmt.Errorf("partition key %q must be 1 to %d characters", k, maxKeyChars)
	}
	return nil
}

func (m *keyMaker) key(d keyData, line []byte) (string, error) {
	var k string
	switch {
	case m.keyField != nil:
		v, err := jsonField(line, m.keyField)
		if err != nil {
			return "", err
		}
		k = v
	case m.tmpl != nil:
		var b strings.Builder
		if err := m.tmpl.Execute(&b, d); err != nil {
			return "", fmt.Errorf("--partition-key template: %w", err)
		}
		k = b.String()
	default:
		return m.fixed, nil
	}
	return k, checkKey(k)
}

// jsonField extracts a scalar at path from a JSON object.
func jsonField(doc []byte, path []string) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("no field %q: not inside an object", strings.Join(path, "."))
		}
		if v, ok = obj[p]; !ok {
			return "", fmt.Errorf("no field %q in the document", strings.Join(path, "."))
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("field %q is not a string, number or boolean", strings.Join(path, "."))
}

// putStats counts what put did, for the progress line and the summary.
type putStats struct {
	records, bytes, retried, failed int
	lastFailure                     string
}

func runPut(ctx context.Context, g *globals, stream string, o putOptions, keyChanged bool) error {
	keys, err := newKeyMaker(o, keyChanged)
	if err != nil {
		return err
	}
	if o.maxRetries < 0 {
		return usagef("--max-retries must not be negative")
	}
	in := g.io.Stdin
	if o.file != "" {
		f, err := os.Open(o.file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	// Fail early, before reading input, if the stream does not exist; and
	// learn its record size limit (raised by UpdateMaxRecordSize).
	name, arn := streamRef(stream)
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name, StreamARN: arn})
	if err != nil {
		return err
	}
	maxRecord := defaultMaxKiB << 10
	if kib := aws.ToInt32(sum.StreamDescriptionSummary.MaxRecordSizeInKiB); kib > 0 {
		maxRecord = int(kib) << 10
	}
	batchLimit := max(maxBatchBytes, maxRecord)

	p := &putter{c: c, name: name, arn: arn, maxRetries: o.maxRetries}
	prog := newProgress(g.io.Stderr)
	start := time.Now()
	r := bufio.NewReaderSize(in, 64<<10)
	var batch []types.PutRecordsRequestEntry
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := p.send(ctx, batch)
		batch, batchBytes = nil, 0
		prog.update(func() string {
			return fmt.Sprintf("put: %d records, %s, %s", p.stats.records, humanBytes(p.stats.bytes), rate(p.stats.records, time.Since(start)))
		})
		return err
	}
	record := 0
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(r, maxRecord)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		if o.json {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if !json.Valid(line) {
				return fmt.Errorf("line %d: not a JSON document", lineNo)
			}
		}
		record++
		key, err := keys.key(keyData{Line: lineNo, Record: record, Data: string(line)}, line)
		if err != nil {
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		size := len(line) + len(key)
		if len(batch) == maxBatchRecords || batchBytes+size > batchLimit {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, types.PutRecordsRequestEntry{Data: line, PartitionKey: aws.String(key)})
		batchBytes += size
	}
	if err := flush(); err != nil {
		return err
	}
	prog.done()
	s := p.stats
	if !o.quiet {
		fmt.Fprintf(g.io.Stdout, "put %d records (%s) to %s in %s: %d retried, %d failed\n",
			s.records, humanBytes(s.bytes), stream, time.Since(start).Round(time.Millisecond), s.retried, s.failed)
	}
	if s.failed > 0 {
		return fmt.Errorf("%d records not written after %d retries (last error %s)", s.failed, o.maxRetries, s.lastFailure)
	}
	return nil
}

// errLineTooLong is returned for a line larger than a record may be.
var errLineTooLong = errors.New("line longer than the stream's maximum record size")

// readLine reads one line without its '\n', refusing lines over max bytes
// without buffering more than max+1 of them. The last line may lack a
// newline; io.EOF means no more lines.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max+1 {
			// Skip the rest so that the caller's line count stays right.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			return nil, fmt.Errorf("%w (%d KiB)", errLineTooLong, max>>10)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}

// putter sends batches and retries their failed entries.
type putter struct {
	c          *kinesis.Client
	name, arn  *string
	maxRetries int
	stats      putStats
}

// send writes one batch, retrying failed entries with exponential back-off
// (100 ms doubling to 5 s, with jitter) up to maxRetries times. A failure of
// the whole call (after the SDK's own retries) is returned.
func (p *putter) send(ctx context.Context, batch []types.PutRecordsRequestEntry) error {
	for attempt := 0; ; attempt++ {
		out, err := p.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: p.name, StreamARN: p.arn, Records: batch})
		if err != nil {
			return err
		}
		var failed []types.PutRecordsRequestEntry
		for i, res := range out.Records {
			if i >= len(batch) {
				break
			}
			if res.ErrorCode != nil {
				failed = append(failed, batch[i])
				p.stats.lastFailure = aws.ToString(res.ErrorCode) + ": " + aws.ToString(res.ErrorMessage)
				continue
			}
			p.stats.records++
			p.stats.bytes += len(batch[i].Data)
		}
		if len(out.Records) < len(batch) {
			return fmt.Errorf("PutRecords answered %d results for %d records", len(out.Records), len(batch))
		}
		if len(failed) == 0 {
			return nil
		}
		if attempt == p.maxRetries {
			p.stats.failed += len(failed)
			return nil
		}
		p.stats.retried += len(failed)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
		batch = failed
	}
}

// backoff is the delay before retry attempt+1: 100 ms doubling up to 5 s,
// half of it random so that many producers do not retry in step.
func backoff(attempt int) time.Duration {
	d := time.Duration(float64(100*time.Millisecond) * math.Pow(2, float64(min(attempt, 10))))
	d = min(d, 5*time.Second)
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "- records/s"
	}
	return fmt.Sprintf("%.0f records/s", float64(n)/d.Seconds())
}

// progress shows a self-overwriting status line on a terminal, at most a
// few times a second, and nothing when standard error is not a terminal.
type progress struct {
	w     io.Writer
	tty   bool
	last  time.Time
	shown bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w)}
}

func (p *progress) update(line func() string) {
	if !p.tty || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\r\033[K%s", line())
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// isTerminal reports whether w is a character device (a terminal), without
// a dependency on x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
