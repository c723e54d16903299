// Command gen writes internal/apimodel/model.json from botocore's Kinesis service model
// (data/kinesis/2013-12-02/service-2.json.gz).
//
// Usage (normally through go generate in internal/apimodel):
//
//	go run ./gen [-botocore DIR] [-out model.json]
//
// Without -botocore it asks the local python3 where botocore is installed. The output keeps only
// what request validation needs: operations with their input/output/error shape names, and every
// shape's type, required members, members in model order (with shape and jsonName), min/max,
// pattern, enum and list/map members. Documentation is dropped.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// serviceModel is the subset of a botocore service-2.json that gen reads.
type serviceModel struct {
	Metadata struct {
		APIVersion   string `json:"apiVersion"`
		TargetPrefix string `json:"targetPrefix"`
		JSONVersion  string `json:"jsonVersion"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *struct{ Shape string }  `json:"input"`
		Output *struct{ Shape string }  `json:"output"`
		Errors []struct{ Shape string } `json:"errors"`
	} `json:"operations"`
	Shapes map[string]rawShape `json:"shapes"`
}

// rawShape is one botocore shape. Members is kept raw so that member order survives.
type rawShape struct {
	Type      string          `json:"type"`
	Required  []string        `json:"required"`
	Members   json.RawMessage `json:"members"`
	Member    *rawRef         `json:"member"`
	Key       *rawRef         `json:"key"`
	Value     *rawRef         `json:"value"`
	Min       *json.Number    `json:"min"`
	Max       *json.Number    `json:"max"`
	Pattern   string          `json:"pattern"`
	Enum      []string        `json:"enum"`
	Exception bool            `json:"exception"`
}

type rawRef struct {
	Shape    string `json:"shape"`
	JSONName string `json:"jsonName"`
}

// outModel mirrors apimodel's model.json schema; apimodel's tests check that it loads.
type outModel struct {
	APIVersion   string                  `json:"apiVersion"`
	TargetPrefix string                  `json:"targetPrefix"`
	JSONVersion  string                  `json:"jsonVersion"`
	Operations   map[string]outOperation `json:"operations"`
	Shapes       map[string]outShape     `json:"shapes"`
}

type outOperation struct {
	Input  string   `json:"input,omitempty"`
	Output string   `json:"output,omitempty"`
	Errors []string `json:"errors,omitempty"`
}

type outShape struct {
	Type      string       `json:"type"`
	Required  []string     `json:"required,omitempty"`
	Members   []outMember  `json:"members,omitempty"`
	Member    string       `json:"member,omitempty"`
	Key       string       `json:"key,omitempty"`
	Value     string       `json:"value,omitempty"`
	Min       *json.Number `json:"min,omitempty"`
	Max       *json.Number `json:"max,omitempty"`
	Pattern   string       `json:"pattern,omitempty"`
	Enum      []string     `json:"enum,omitempty"`
	Exception bool         `json:"exception,omitempty"`
}

type outMember struct {
	Name     string `json:"name"`
	Shape    string `json:"shape"`
	JSONName string `json:"jsonName,omitempty"`
}

func main() {
	botocore := flag.String("botocore", "", "botocore package directory (default: ask python3)")
	out := flag.String("out", "model.json", "output file")
	flag.Parse()
	if err := run(*botocore, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(botocore, out string) error {
	if botocore == "" {
		b, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
		if err != nil {
			return fmt.Errorf("locate botocore with python3 (pass -botocore): %w", err)
		}
		botocore = strings.TrimSpace(string(b))
	}
	src := filepath.Join(botocore, "data", "kinesis", "2013-12-02", "service-2.json.gz")
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open service model: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("gunzip %s: %w", src, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	m, err := convert(raw)
	if err != nil {
		return fmt.Errorf("convert %s: %w", src, err)
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode model: %w", err)
	}
	b = append(b, '\n')
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	return nil
}

func convert(raw []byte) (*outModel, error) {
	var sm serviceModel
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&sm); err != nil {
		return nil, fmt.Errorf("parse service model: %w", err)
	}
	m := &outModel{
		APIVersion:   sm.Metadata.APIVersion,
		TargetPrefix: sm.Metadata.TargetPrefix,
		JSONVersion:  sm.Metadata.JSONVersion,
		Operations:   make(map[string]outOperation, len(sm.Operations)),
		Shapes:       make(map[string]outShape, len(sm.Shapes)),
	}
	for name, op := range sm.Operations {
		var o outOperation
		if op.Input != nil {
			o.Input = op.Input.Shape
		}
		if op.Output != nil {
			o.Output = op.Output.Shape
		}
		for _, e := range op.Errors {
			o.Errors = append(o.Errors, e.Shape)
		}
		m.Operations[name] = o
	}
	for name, s := range sm.Shapes {
		o := outShape{
			Type:      s.Type,
			Required:  s.Required,
			Min:       s.Min,
			Max:       s.Max,
			Pattern:   s.Pattern,
			Enum:      s.Enum,
			Exception: s.Exception,
		}
		if s.Member != nil {
			o.Member = s.Member.Shape
		}
		if s.Key != nil {
			o.Key = s.Key.Shape
		}
		if s.Value != nil {
			o.Value = s.Value.Shape
		}
		members, err := orderedMembers(s.Members)
		if err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		o.Members = members
		m.Shapes[name] = o
	}
	// Fail here rather than at run time if the model refers to a shape it does not define.
	for name, s := range m.Shapes {
		refs := []string{s.Member, s.Key, s.Value}
		for _, mem := range s.Members {
			refs = append(refs, mem.Shape)
		}
		for _, r := range refs {
			if _, ok := m.Shapes[r]; r != "" && !ok {
				return nil, fmt.Errorf("shape %s refers to unknown shape %s", name, r)
			}
		}
	}
	return m, nil
}

// orderedMembers decodes a botocore "members" object keeping the order the model lists them in,
// which encoding/json's maps would lose.
func orderedMembers(raw json.RawMessage) ([]outMember, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	var out []outMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		name, _ := tok.(string)
		var ref rawRef
		if err := dec.Decode(&ref); err != nil {
			return nil, fmt.Errorf("member %s: %w", name, err)
		}
		out = append(out, outMember{Name: name, Shape: ref.Shape, JSONName: ref.JSONName})
	}
	return out, nil
}
