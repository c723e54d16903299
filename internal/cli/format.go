package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/riffle-streams/riffle/internal/kpl"
)

// userRecord is one record as tail prints it: a Kinesis record, or one user
// record unpacked from an aggregated one (sub >= 0).
type userRecord struct {
	shard, seq      string
	sub             int
	partitionKey    string
	explicitHashKey string
	arrival         *time.Time
	data            []byte
}

// printer writes records from all shard readers, one record at a time, and
// stops the tail once --limit records are out.
type printer struct {
	mu          sync.Mutex
	w           *bufio.Writer
	stderr      io.Writer
	format      string
	deaggregate bool
	limit       int
	count       int
	werr        error // first write error, kept: output is gone (EPIPE)
	stop        context.CancelFunc
}

func newPrinter(w, stderr io.Writer, format string, deaggregate bool, limit int, stop context.CancelFunc) *printer {
	return &printer{w: bufio.NewWriter(w), stderr: stderr, format: format, deaggregate: deaggregate, limit: limit, stop: stop}
}

// emit prints a shard's records in order. It returns false when tail must
// stop: the limit is reached or output failed.
func (p *printer) emit(shard string, recs []types.Record) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.werr != nil || p.limitHit() {
		return false
	}
	for _, r := range recs {
		for _, u := range p.expand(shard, r) {
			if err := p.write(u); err != nil {
				p.werr = err
				p.stop()
				return false
			}
			p.count++
			if p.limitHit() {
				p.flush()
				p.stop()
				return false
			}
		}
	}
	p.flush()
	return p.werr == nil
}

func (p *printer) flush() {
	if err := p.w.Flush(); err != nil && p.werr == nil {
		p.werr = err
		p.stop()
	}
}

func (p *printer) limitHit() bool { return p.limit > 0 && p.count >= p.limit }

func (p *printer) reachedLimit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limitHit()
}

func (p *printer) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.werr != nil {
		return fmt.Errorf("write output: %w", p.werr)
	}
	return nil
}

// expand deaggregates r when it is a KPL-aggregated record.
func (p *printer) expand(shard string, r types.Record) []userRecord {
	base := userRecord{shard: shard, seq: aws.ToString(r.SequenceNumber), sub: -1, partitionKey: aws.ToString(r.PartitionKey),
		arrival: r.ApproximateArrivalTimestamp, data: r.Data}
	if !p.deaggregate || !kpl.IsAggregated(r.Data) {
		return []userRecord{base}
	}
	subs, err := kpl.Deaggregate(r.Data)
	if err != nil {
		fmt.Fprintf(p.stderr, "riffle: tail: %s %s: printed as is: %v\n", shard, base.seq, err)
		return []userRecord{base}
	}
	out := make([]userRecord, len(subs))
	for i, s := range subs {
		out[i] = base
		out[i].sub = i
		out[i].partitionKey = s.PartitionKey
		out[i].explicitHashKey = s.ExplicitHashKey
		out[i].data = s.Data
	}
	return out
}

// jsonRecord is the --format json shape.
type jsonRecord struct {
	ShardID                     string  `json:"shardId"`
	SequenceNumber              string  `json:"sequenceNumber"`
	SubSequenceNumber           *int    `json:"subSequenceNumber,omitempty"`
	PartitionKey                string  `json:"partitionKey"`
	ExplicitHashKey             string  `json:"explicitHashKey,omitempty"`
	ApproximateArrivalTimestamp string  `json:"approximateArrivalTimestamp,omitempty"`
	Data                        string  `json:"data"`
	Text                        *string `json:"text,omitempty"`
}

func (p *printer) write(u userRecord) error {
	seq := u.seq
	if u.sub >= 0 {
		seq += ":" + strconv.Itoa(u.sub)
	}
	var err error
	switch p.format {
	case "raw":
		if _, err = p.w.Write(u.data); err == nil {
			err = p.w.WriteByte('\n')
		}
	case "json":
		j := jsonRecord{ShardID: u.shard, SequenceNumber: u.seq, PartitionKey: u.partitionKey, ExplicitHashKey: u.explicitHashKey,
			Data: base64.StdEncoding.EncodeToString(u.data)}
		if u.sub >= 0 {
			j.SubSequenceNumber = &u.sub
		}
		if u.arrival != nil {
			j.ApproximateArrivalTimestamp = u.arrival.UTC().Format(time.RFC3339Nano)
		}
		if utf8.Valid(u.data) {
			s := string(u.data)
			j.Text = &s
		}
		var b []byte
		if b, err = json.Marshal(j); err == nil {
			b = append(b, '\n')
			_, err = p.w.Write(b)
		}
	case "hex":
		_, err = fmt.Fprintf(p.w, "%s %s key=%q (%d bytes)\n%s", u.shard, seq, u.partitionKey, len(u.data), hex.Dump(u.data))
	default: // text
		_, err = fmt.Fprintf(p.w, "%s\t%s\t%s\n", u.shard, seq, printable(u.data))
	}
	return err
}

// printable returns data as is when it is one line of printable UTF-8, and
// Go-quoted otherwise, so that one record is always one line.
func printable(data []byte) string {
	s := string(data)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\t' && r != ' ' {
			return strconv.Quote(s)
		}
	}
	if len(s) > 0 && s[0] == '"' {
		return strconv.Quote(s)
	}
	return s
}
