package cli

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func run(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = Run(args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

func TestUsageErrorsExit2OnOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"}, {"stream"}, {"stream", "nope"}, {"put"}, {"put", "s", "--nope"},
		{"tail", "s", "--from", "soon"}, {"tail", "s", "--format", "xml"}, {"put", "s", "--partition-key", "{{.Nope"},
		{"put", "s", "--key-field", "id"}, {"stream", "scale", "s", "many"}, {"stream", "list", "--endpoint", "ftp://x"},
	} {
		_, stderr, code := run(args...)
		last := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
		if code != ExitUsage || !strings.HasPrefix(last, "riffle: ") {
			t.Errorf("riffle %s: exit %d, stderr %q; want exit 2 and a riffle: line", strings.Join(args, " "), code, stderr)
		}
	}
}

func TestHelpExits0(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"put", "--help"}, {"help", "tail"}, {"completion", "fish"}} {
		out, _, code := run(args...)
		if code != 0 || out == "" {
			t.Errorf("riffle %s: exit %d, %d bytes out", strings.Join(args, " "), code, len(out))
		}
	}
}

func TestParseFrom(t *testing.T) {
	for in, want := range map[string]types.ShardIteratorType{
		"latest": types.ShardIteratorTypeLatest, "trim-horizon": types.ShardIteratorTypeTrimHorizon,
		"TRIM_HORIZON": types.ShardIteratorTypeTrimHorizon, "2024-05-01T12:00:00Z": types.ShardIteratorTypeAtTimestamp,
		"2024-05-01T12:00:00.5+02:00":                              types.ShardIteratorTypeAtTimestamp,
		"49000000000000000100000000000000000001000000000000005126": types.ShardIteratorTypeAtSequenceNumber,
	} {
		got, err := parseFrom(in)
		if err != nil || got.typ != want {
			t.Errorf("parseFrom(%q) = %v, %v; want %s", in, got.typ, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "12a", "2024-05-01"} {
		if _, err := parseFrom(in); err == nil {
			t.Errorf("parseFrom(%q) succeeded", in)
		}
	}
}

func TestKeys(t *testing.T) {
	m, err := newKeyMaker(putOptions{key: "k-{{mod .Line 3}}-{{.Record}}"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := m.key(keyData{Line: 7, Record: 5}, nil); k != "k-1-5" || err != nil {
		t.Errorf("template key = %q, %v", k, err)
	}
	m, _ = newKeyMaker(putOptions{key: "{{.Random}}"}, true)
	a, _ := m.key(keyData{}, nil)
	b, _ := m.key(keyData{}, nil)
	if len(a) != 32 || a == b {
		t.Errorf("random keys %q %q", a, b)
	}
	m, _ = newKeyMaker(putOptions{key: "{{.Data}}"}, true)
	if _, err := m.key(keyData{Data: ""}, nil); err == nil {
		t.Errorf("an empty key was accepted")
	}
	m, _ = newKeyMaker(putOptions{json: true, keyField: "a.b"}, false)
	for doc, want := range map[string]string{`{"a":{"b":"x"}}`: "x", `{"a":{"b":12.50}}`: "12.50", `{"a":{"b":true}}`: "true"} {
		if k, err := m.key(keyData{}, []byte(doc)); k != want || err != nil {
			t.Errorf("key of %s = %q, %v; want %q", doc, k, err, want)
		}
	}
	for _, doc := range []string{`{"a":{}}`, `{"a":1}`, `{"a":{"b":null}}`, `{"a":{"b":[1]}}`} {
		if _, err := m.key(keyData{}, []byte(doc)); err == nil {
			t.Errorf("key of %s: no error", doc)
		}
	}
}

func TestReadLine(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("a\r\n"+strings.Repeat("x", 100)+"\nlast"), 16)
	if l, err := readLine(r, 50); string(l) != "a\r" || err != nil {
		t.Errorf("line 1 = %q, %v", l, err)
	}
	if _, err := readLine(r, 50); !errors.Is(err, errLineTooLong) {
		t.Errorf("line 2: %v, want errLineTooLong", err)
	}
	if l, err := readLine(r, 50); string(l) != "last" || err != nil {
		t.Errorf("line 3 = %q, %v", l, err)
	}
	if _, err := readLine(r, 50); err == nil {
		t.Errorf("read past the end")
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{"plain ünï 🚀": "plain ünï 🚀", "a\nb": `"a\nb"`, "\xff": `"\xff"`, `"q"`: `"\"q\""`} {
		if got := printable([]byte(in)); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}
