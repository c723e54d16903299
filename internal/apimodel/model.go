package apimodel

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

//go:generate go run ./gen -out model.json

//go:embed model.json
var modelJSON []byte

// Shape types used by the Kinesis model (botocore spelling).
const (
	typeStructure = "structure"
	typeList      = "list"
	typeMap       = "map"
	typeString    = "string"
	typeBlob      = "blob"
	typeBoolean   = "boolean"
	typeInteger   = "integer"
	typeLong      = "long"
	typeTimestamp = "timestamp"
)

// model is the decoded form of model.json.
type model struct {
	APIVersion   string               `json:"apiVersion"`
	TargetPrefix string               `json:"targetPrefix"`
	JSONVersion  string               `json:"jsonVersion"`
	Operations   map[string]operation `json:"operations"`
	Shapes       map[string]*shape    `json:"shapes"`
}

type operation struct {
	Input  string   `json:"input"`
	Output string   `json:"output"`
	Errors []string `json:"errors"`
}

// shape is one model shape. The unexported fields are derived once at load time.
type shape struct {
	Type     string       `json:"type"`
	Required []string     `json:"required"`
	Members  []member     `json:"members"`
	Member   string       `json:"member"`
	Key      string       `json:"key"`
	Value    string       `json:"value"`
	Min      *json.Number `json:"min"`
	Max      *json.Number `json:"max"`
	Pattern  string       `json:"pattern"`
	Enum     []string     `json:"enum"`

	name     string
	min, max *int64
	re       *regexp.Regexp
	// enumText is the enum set as AWS prints it, already in AWS's order.
	enumText string
	// checkOrder lists Members in the order AWS reports their violations.
	checkOrder []*member
	member     *shape // list element shape
	key, value *shape // map key and value shapes
}

// member is one structure member.
type member struct {
	Name     string `json:"name"`
	Shape    string `json:"shape"`
	JSONName string `json:"jsonName"`

	shape    *shape
	required bool
	// path is the member's name as AWS prints it in a violation path: lowerCamelCase.
	path string
}

// wireName is the member's key in a JSON 1.1 body.
func (m *member) wireName() string {
	if m.JSONName != "" {
		return m.JSONName
	}
	return m.Name
}

// kinesis is the loaded model. It is built from embedded data at init, so an error there is a
// build defect (caught by the package tests), not something a request can cause.
var kinesis = mustLoad(modelJSON)

func mustLoad(b []byte) *model {
	m, err := loadModel(b)
	if err != nil {
		panic(fmt.Sprintf("apimodel: embedded model.json: %v", err))
	}
	return m
}

// loadModel decodes model.json and resolves shape references, bounds, patterns and orders.
func loadModel(b []byte) (*model, error) {
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if len(m.Operations) == 0 {
		return nil, fmt.Errorf("no operations")
	}
	lookup := func(owner, name string) (*shape, error) {
		s, ok := m.Shapes[name]
		if !ok || s == nil {
			return nil, fmt.Errorf("shape %s: unknown shape %q", owner, name)
		}
		return s, nil
	}
	for name, s := range m.Shapes {
		if s == nil {
			return nil, fmt.Errorf("shape %s: null", name)
		}
		s.name = name
		var err error
		if s.min, err = bound(s.Min); err != nil {
			return nil, fmt.Errorf("shape %s: min: %w", name, err)
		}
		if s.max, err = bound(s.Max); err != nil {
			return nil, fmt.Errorf("shape %s: max: %w", name, err)
		}
		if s.Pattern != "" {
			// AWS matches the whole value (Java's Matcher.matches), so anchor the pattern.
			if s.re, err = regexp.Compile(`^(?:` + s.Pattern + `)$`); err != nil {
				return nil, fmt.Errorf("shape %s: pattern: %w", name, err)
			}
		}
		if len(s.Enum) > 0 {
			s.enumText = "[" + strings.Join(enumOrder(s.Enum), ", ") + "]"
		}
		switch s.Type {
		case typeList:
			if s.member, err = lookup(name, s.Member); err != nil {
				return nil, err
			}
		case typeMap:
			if s.key, err = lookup(name, s.Key); err != nil {
				return nil, err
			}
			if s.value, err = lookup(name, s.Value); err != nil {
				return nil, err
			}
		case typeStructure:
			names := make([]string, len(s.Members))
			for i := range s.Members {
				mem := &s.Members[i]
				if mem.shape, err = lookup(name, mem.Shape); err != nil {
					return nil, err
				}
				mem.required = slices.Contains(s.Required, mem.Name)
				mem.path = lowerFirst(mem.Name)
				names[i] = mem.path
			}
			for _, r := range s.Required {
				if !slices.ContainsFunc(s.Members, func(mem member) bool { return mem.Name == r }) {
					return nil, fmt.Errorf("shape %s: required member %s is not a member", name, r)
				}
			}
			for _, i := range hashMapOrder(names) {
				s.checkOrder = append(s.checkOrder, &s.Members[i])
			}
		case typeString, typeBlob, typeBoolean, typeInteger, typeLong, typeTimestamp:
		default:
			return nil, fmt.Errorf("shape %s: unsupported type %q", name, s.Type)
		}
	}
	for name, op := range m.Operations {
		if op.Input == "" {
			continue
		}
		s, err := lookup(name, op.Input)
		if err != nil {
			return nil, fmt.Errorf("operation %s: %w", name, err)
		}
		if s.Type != typeStructure {
			return nil, fmt.Errorf("operation %s: input %s is a %s, not a structure", name, op.Input, s.Type)
		}
	}
	return &m, nil
}

func bound(n *json.Number) (*int64, error) {
	if n == nil {
		return nil, nil
	}
	v, err := n.Int64()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", *n, err)
	}
	return &v, nil
}

// lowerFirst turns a model member name into the path element AWS prints ("StreamName" →
// "streamName").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// HasOperation reports whether op (e.g. "PutRecords") exists in the model.
func HasOperation(op string) bool {
	_, ok := kinesis.Operations[op]
	return ok
}

// Operations returns the names of every operation in the model, sorted.
func Operations() []string {
	ops := make([]string, 0, len(kinesis.Operations))
	for op := range kinesis.Operations {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}
