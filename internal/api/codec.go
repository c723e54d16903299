package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/riffle-streams/riffle/internal/apimodel"
)

// The engine's request and response types name their fields exactly as the
// Kinesis service model names its members. bind and render map between those
// types and generic trees (the forms apimodel.Decode and apimodel.Check
// return, already checked against the model), so that no operation needs
// codec code of its own.

var (
	timeType  = reflect.TypeOf(time.Time{})
	bytesType = reflect.TypeOf([]byte(nil))
)

// bind fills the struct dst points to from a generic JSON object.
func bind(dst any, src map[string]any) error {
	return bindValue(reflect.ValueOf(dst).Elem(), src)
}

func bindValue(v reflect.Value, src any) error {
	if src == nil {
		return nil
	}
	t := v.Type()
	switch {
	case t == timeType:
		switch x := src.(type) {
		case time.Time: // decoded by a binary codec
			v.Set(reflect.ValueOf(x))
			return nil
		case json.Number: // JSON 1.1: epoch seconds with a fraction
			f, err := x.Float64()
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return fmt.Errorf("timestamp %s: %w", x, err)
			}
			v.Set(reflect.ValueOf(apimodel.EpochSeconds(f)))
			return nil
		}
		return fmt.Errorf("timestamp: got %T", src)
	case t == bytesType:
		switch x := src.(type) {
		case []byte: // decoded by a binary codec
			v.SetBytes(x)
			return nil
		case string: // JSON 1.1: base64
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return fmt.Errorf("blob: %w", err)
			}
			v.SetBytes(b)
			return nil
		}
		return fmt.Errorf("blob: got %T", src)
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := bindValue(p.Elem(), src); err != nil {
			return err
		}
		v.Set(p)
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return fmt.Errorf("string: got %T", src)
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			return fmt.Errorf("boolean: got %T", src)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, ok := src.(json.Number)
		if !ok {
			return fmt.Errorf("integer: got %T", src)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v.OverflowInt(i) {
			return fmt.Errorf("integer %s out of range", n)
		}
		v.SetInt(i)
	case reflect.Slice:
		list, ok := src.([]any)
		if !ok {
			return fmt.Errorf("list: got %T", src)
		}
		s := reflect.MakeSlice(t, len(list), len(list))
		for i, e := range list {
			if err := bindValue(s.Index(i), e); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Map:
		obj, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("map: got %T", src)
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		for k, e := range obj {
			ev := reflect.New(t.Elem()).Elem()
			if err := bindValue(ev, e); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k), ev)
		}
		v.Set(m)
	case reflect.Struct:
		obj, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("structure: got %T", src)
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				if err := bindValue(v.Field(i), obj); err != nil {
					return err
				}
				continue
			}
			if err := bindValue(v.Field(i), obj[f.Name]); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	default:
		return fmt.Errorf("unsupported field type %s", t)
	}
	return nil
}

// render turns a response struct into a codec-neutral tree: maps, slices,
// strings, int64, bool, []byte and wireTime, which both encoding/json and
// the CBOR encoder write in their protocol's form. Empty strings, nil pointers, nil
// slices and maps and zero times are left out, as Kinesis leaves out members
// it has no value for; numbers and booleans are always present.
func render(v reflect.Value) (any, bool) {
	t := v.Type()
	switch {
	case t == timeType:
		tm := v.Interface().(time.Time)
		if tm.IsZero() {
			return nil, false
		}
		return wireTime(tm), true
	case t == bytesType:
		if v.IsNil() {
			return nil, false
		}
		return v.Bytes(), true
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		return render(v.Elem())
	case reflect.String:
		return v.String(), v.Len() > 0
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i], _ = render(v.Index(i))
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			out[it.Key().String()], _ = render(it.Value())
		}
		return out, true
	case reflect.Struct:
		out := make(map[string]any, t.NumField())
		renderFields(v, out)
		return out, true
	}
	return nil, false
}

func renderFields(v reflect.Value, out map[string]any) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			renderFields(v.Field(i), out)
			continue
		}
		if x, ok := render(v.Field(i)); ok {
			out[f.Name] = x
		}
	}
}

// wireTime is a timestamp in a rendered response. It writes itself in each
// codec's form, so that the tree needs no per-codec pass and any code that
// encodes a rendered value (responses, event payloads) gets it right: JSON
// 1.1 wants epoch seconds with a millisecond fraction (1700000000.123); CBOR
// wants tag 1 with integer epoch milliseconds (MarshalCBOR, in cbor.go).
type wireTime time.Time

// MarshalJSON writes epoch seconds with a millisecond fraction.
func (t wireTime) MarshalJSON() ([]byte, error) {
	return appendEpochMillis(nil, time.Time(t).UnixMilli()), nil
}
