package apimodel

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// validate checks a type-checked input against the constraints of its shape and returns AWS's
// violation texts in AWS's order, at most MaxViolations.
//
// Order (see doc.go for the evidence): a structure's members in hashMapOrder of their names;
// for one value, its own constraints (enum, pattern, then length or range) before its children;
// list elements in index order.
func validate(s *shape, obj map[string]any) []string {
	v := &validator{}
	v.structure(s, obj, "")
	return v.violations
}

type validator struct {
	violations []string
}

func (v *validator) full() bool { return len(v.violations) >= MaxViolations }

// add records one violation; value is the already-printed value ("null" or a quoted text).
func (v *validator) add(value, path, constraint string) {
	if v.full() {
		return
	}
	v.violations = append(v.violations,
		"Value "+value+" at '"+path+"' failed to satisfy constraint: "+constraint)
}

// structure checks obj's members; prefix is the path up to and including a trailing dot.
func (v *validator) structure(s *shape, obj map[string]any, prefix string) {
	for _, m := range s.checkOrder {
		if v.full() {
			return
		}
		path := prefix + m.path
		val := obj[m.wireName()]
		if val == nil {
			if m.required {
				v.add("null", path, "Member must not be null")
			}
			continue
		}
		v.value(m.shape, val, path)
	}
}

func (v *validator) value(s *shape, val any, path string) {
	switch s.Type {
	case typeStructure:
		obj, _ := val.(map[string]any)
		v.structure(s, obj, path+".")
	case typeList:
		v.list(s, val.([]any), path)
	case typeMap:
		v.mapValue(s, val.(map[string]any), path)
	default:
		for _, c := range scalarViolations(s, val) {
			v.add(quoted(s, val), path, c)
		}
	}
}

func (v *validator) list(s *shape, elems []any, path string) {
	for _, c := range sizeViolations(s, len(elems)) {
		v.add(quoted(s, elems), path, c)
	}
	if isScalar(s.member) {
		// AWS reports a list of scalars as a whole, listing every constraint of the element
		// shape: "Member must satisfy constraint: [Member must have length less than or equal to
		// 128, Member must have length greater than or equal to 1]".
		bad := false
		for i, e := range elems {
			if e == nil {
				v.add("null", fmt.Sprintf("%s.%d.member", path, i+1), "Member must not be null")
				continue
			}
			bad = bad || len(scalarViolations(s.member, e)) > 0
		}
		if bad {
			v.add(quoted(s, elems), path,
				"Member must satisfy constraint: ["+strings.Join(constraintTexts(s.member), ", ")+"]")
		}
		return
	}
	for i, e := range elems {
		if v.full() {
			return
		}
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		if e == nil {
			v.add("null", p, "Member must not be null")
			continue
		}
		v.value(s.member, e, p)
	}
}

func (v *validator) mapValue(s *shape, obj map[string]any, path string) {
	for _, c := range sizeViolations(s, len(obj)) {
		v.add(quoted(s, obj), path, c)
	}
	keys := mapOrder(obj)
	badKey := slices.ContainsFunc(keys, func(k string) bool { return len(scalarViolations(s.key, k)) > 0 })
	if badKey {
		v.add(quoted(s, obj), path,
			"Map keys must satisfy constraint: ["+strings.Join(constraintTexts(s.key), ", ")+"]")
	}
	if !isScalar(s.value) {
		for _, k := range keys {
			if e := obj[k]; e != nil {
				v.value(s.value, e, path+"."+k)
			}
		}
	} else if slices.ContainsFunc(keys, func(k string) bool {
		return obj[k] != nil && len(scalarViolations(s.value, obj[k])) > 0
	}) {
		v.add(quoted(s, obj), path,
			"Map value must satisfy constraint: ["+strings.Join(constraintTexts(s.value), ", ")+"]")
	}
	for _, k := range keys {
		if obj[k] == nil {
			v.add("null", path+"."+k, "Member must not be null")
		}
	}
}

func isScalar(s *shape) bool {
	return s.Type != typeStructure && s.Type != typeList && s.Type != typeMap
}

// scalarViolations returns the constraint texts that a non-null scalar value breaks, in AWS's
// order: enum, pattern, length (or value) minimum, maximum.
func scalarViolations(s *shape, val any) []string {
	var out []string
	switch s.Type {
	case typeString:
		str, _ := val.(string)
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			out = append(out, enumText(s))
		}
		if s.re != nil && !s.re.MatchString(str) {
			out = append(out, patternText(s))
		}
		out = append(out, sizeViolations(s, javaLength(str))...)
	case typeBlob:
		out = append(out, sizeViolations(s, len(blobBytes(val)))...)
	case typeInteger, typeLong:
		n, _ := val.(json.Number)
		i, _ := strconv.ParseInt(string(n), 10, 64)
		if s.min != nil && i < *s.min {
			out = append(out, "Member must have value greater than or equal to "+strconv.FormatInt(*s.min, 10))
		}
		if s.max != nil && i > *s.max {
			out = append(out, "Member must have value less than or equal to "+strconv.FormatInt(*s.max, 10))
		}
	}
	return out
}

// sizeViolations checks a length (string, blob, list or map size) against min and max.
func sizeViolations(s *shape, n int) []string {
	var out []string
	if s.min != nil && int64(n) < *s.min {
		out = append(out, "Member must have length greater than or equal to "+strconv.FormatInt(*s.min, 10))
	}
	if s.max != nil && int64(n) > *s.max {
		out = append(out, "Member must have length less than or equal to "+strconv.FormatInt(*s.max, 10))
	}
	return out
}

// constraintTexts lists every constraint of a scalar shape, as AWS prints them inside
// "Member must satisfy constraint: [...]": enum, pattern, maximum, then minimum.
func constraintTexts(s *shape) []string {
	var out []string
	if len(s.Enum) > 0 {
		out = append(out, enumText(s))
	}
	if s.re != nil {
		out = append(out, patternText(s))
	}
	kind := "length"
	if s.Type == typeInteger || s.Type == typeLong {
		kind = "value"
	}
	if s.max != nil {
		out = append(out, "Member must have "+kind+" less than or equal to "+strconv.FormatInt(*s.max, 10))
	}
	if s.min != nil {
		out = append(out, "Member must have "+kind+" greater than or equal to "+strconv.FormatInt(*s.min, 10))
	}
	return out
}

func enumText(s *shape) string { return "Member must satisfy enum value set: " + s.enumText }
func patternText(s *shape) string {
	return "Member must satisfy regular expression pattern: " + s.Pattern
}

// javaLength is a string's length as Java counts it, in UTF-16 code units.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// mapOrder returns a map's keys in Java HashMap iteration order, the order AWS prints entries in.
func mapOrder(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a stable insertion order for keys that share a bucket
	idx := hashMapOrder(keys)
	out := make([]string, len(keys))
	for i, j := range idx {
		out[i] = keys[j]
	}
	return out
}
