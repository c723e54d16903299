package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Ops holds the settings of operating a server: throughput limits, fault
// injection, the configuration file and the streams to create at start.
type Ops struct {
	// EnforceLimits enforces Kinesis's shard throughput and API rate limits
	// (engine/limits.go).
	EnforceLimits bool
	// FaultRate is the probability (0 to 1) that a data-plane call or a
	// PutRecords entry fails with one of FaultTypes (a comma-separated list
	// of engine.FaultTypes; empty means all).
	FaultRate  float64
	FaultTypes string
	// Pprof serves Go's runtime profiles at /debug/pprof/ to loopback
	// clients, for `riffle bench --profile` and `go tool pprof`.
	Pprof bool

	// ConfigFile is the YAML or JSON file read for settings not given as
	// flags or RIFFLE_* variables.
	ConfigFile string
	// PrintConfig, when "yaml" or "json", prints the effective configuration
	// in that format instead of serving.
	PrintConfig string
	// InitFile is a YAML or JSON file of streams (and consumers) to create at
	// start if absent (see InitFile).
	InitFile string
}

// Fault types accepted by --fault-types: the engine's (engine.FaultTypes),
// repeated here so that config does not import the engine.
var faultTypes = []string{"ProvisionedThroughputExceeded", "InternalFailure"}

// FaultTypeList returns FaultTypes as a list.
func (o Ops) FaultTypeList() []string {
	var out []string
	for _, t := range strings.Split(o.FaultTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Flags that are not settings: they say where settings come from or what to
// do with them, so neither the environment nor the file may set them.
const (
	flagConfig      = "config"
	flagPrintConfig = "print-config"
)

// bindOps registers the flags of Ops on fs.
func (c *Config) bindOps(fs *flag.FlagSet) {
	fs.BoolVar(&c.EnforceLimits, "enforce-limits", c.EnforceLimits, "enforce Kinesis's limits: per shard 1 MiB/s and 1,000 records/s in, 2 MiB/s and 5 GetRecords/s out; API rates (changeable at run time: PUT /admin/limits)")
	fs.Float64Var(&c.FaultRate, "fault-rate", c.FaultRate, "probability (0 to 1) that a data-plane call or PutRecords entry fails, to test retries (changeable at run time: PUT /admin/faults)")
	fs.StringVar(&c.FaultTypes, "fault-types", c.FaultTypes, "faults injected at --fault-rate, comma-separated: "+strings.Join(faultTypes, ",")+" (default all)")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "serve Go's runtime profiles (net/http/pprof) at /debug/pprof/ to loopback clients")
	fs.StringVar(&c.ConfigFile, flagConfig, c.ConfigFile, "YAML or JSON file of settings, keyed by flag name; flags and RIFFLE_* variables override it")
	fs.Var((*printFormat)(&c.PrintConfig), flagPrintConfig, "print the effective configuration as YAML (or --print-config=json) and exit")
	fs.StringVar(&c.InitFile, "init", c.InitFile, "YAML or JSON file of streams and consumers to create at start if absent")
}

// validateOps reports the problems of Ops.
func (c Config) validateOps() []error {
	var errs []error
	if !(c.FaultRate >= 0 && c.FaultRate <= 1) {
		errs = append(errs, fmt.Errorf("--fault-rate %v: must be from 0 to 1", c.FaultRate))
	}
	for _, t := range c.FaultTypeList() {
		if !slices.Contains(faultTypes, t) {
			errs = append(errs, fmt.Errorf("--fault-types: %q is not one of %s", t, strings.Join(faultTypes, ", ")))
		}
	}
	return errs
}

// printFormat is the value of --print-config: a boolean flag (yaml) that
// also takes =yaml or =json.
type printFormat string

func (p *printFormat) String() string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func (p *printFormat) Set(s string) error {
	switch s {
	case "true", "yaml":
		*p = "yaml"
	case "json":
		*p = "json"
	case "false", "":
		*p = ""
	default:
		return fmt.Errorf("must be yaml or json")
	}
	return nil
}

func (p *printFormat) IsBoolFlag() bool { return true }

// Load parses args into a Config. Each setting comes from, in order of
// precedence: a flag on the command line, its RIFFLE_* environment variable
// (RIFFLE_DATA_DIR for --data-dir), the configuration file (--config or
// RIFFLE_CONFIG; keys are flag names), the default. Every problem found, in
// the environment, the file and the result, is reported at once.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	given := make(map[string]bool) // set by a flag or the environment
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || f.Name == flagPrintConfig {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			given[f.Name] = true
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", name, v, err))
			}
		}
	})
	if c.ConfigFile != "" {
		errs = append(errs, applyFile(fs, c.ConfigFile, given)...)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.InitFile != "" {
		if _, err := ReadInitFile(c.InitFile); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// EnvName is the environment variable of a flag: RIFFLE_DATA_DIR for
// data-dir.
func EnvName(flagName string) string {
	return "RIFFLE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyFile sets, from the configuration file at path, every flag of fs not
// in given. It returns every problem of the file.
func applyFile(fs *flag.FlagSet, path string, given map[string]bool) []error {
	values, err := readSettings(path)
	if err != nil {
		return []error{err}
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == flagConfig || k == flagPrintConfig {
			errs = append(errs, fmt.Errorf("%s: unknown setting %q (keys are the flag names of riffle serve)", path, k))
			continue
		}
		s, err := scalar(values[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %v", path, k, err))
			continue
		}
		if given[k] || values[k] == nil {
			continue
		}
		if err := f.Value.Set(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %q: %v", path, k, s, err))
		}
	}
	return errs
}

// readSettings reads a configuration file: JSON if its name ends in .json,
// else YAML (of which JSON is a subset). The top level is a mapping; each
// value is kept as written (a string, a list of strings, or nil for null),
// so that 000000000000 stays an account id rather than becoming the number 0.
func readSettings(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration file: %w", err)
	}
	values := make(map[string]any)
	if strings.EqualFold(filepath.Ext(path), ".json") {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&values); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return values, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(doc.Content) == 0 {
		return values, nil // an empty file
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the top level must be a mapping of setting names to values", path)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i].Value, top.Content[i+1]
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			values[k] = nil
		case v.Kind == yaml.ScalarNode:
			values[k] = v.Value
		case v.Kind == yaml.SequenceNode:
			var list []any
			for _, x := range v.Content {
				if x.Kind != yaml.ScalarNode {
					list = append(list, fmt.Errorf("line %d: a list of plain values is expected", x.Line))
					continue
				}
				list = append(list, x.Value)
			}
			values[k] = list
		default:
			// Reported with the other problems, by scalar.
			values[k] = fmt.Errorf("line %d: must be a string, number, boolean or list", v.Line)
		}
	}
	return values, nil
}

// decodeFile decodes a YAML or JSON document into v, strictly (unknown
// fields are errors) when strict is set.
func decodeFile(path string, b []byte, v any, strict bool) error {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		d := json.NewDecoder(bytes.NewReader(b))
		if strict {
			d.DisallowUnknownFields()
		}
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return nil
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(strict)
	if err := d.Decode(v); err != nil && err != io.EOF {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// scalar renders a file value as the text its flag parses: numbers as
// written, booleans as true/false, lists joined with commas.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case error: // a problem found while reading the file
		return "", v
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			s, err := scalar(x)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("must be a string, number, boolean or list, not %T", v)
}

// Print writes the effective configuration of fs (as Load left it) in
// format "yaml" or "json", keyed by flag name, in a form --config reads back.
func Print(w io.Writer, fs *flag.FlagSet, format string) error {
	values := make(map[string]any)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == flagConfig || f.Name == flagPrintConfig {
			return
		}
		var v any = f.Value.String()
		if g, ok := f.Value.(flag.Getter); ok {
			v = g.Get()
		}
		if d, ok := v.(time.Duration); ok {
			v = d.String()
		}
		values[f.Name] = v
	})
	if format == "json" {
		b, err := json.MarshalIndent(values, "", "  ")
		if err != nil {
			return fmt.Errorf("print configuration: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	b, err := yaml.Marshal(values)
	if err != nil {
		return fmt.Errorf("print configuration: %w", err)
	}
	_, err = w.Write(b)
	return err
}
