package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (Config, *flag.FlagSet, error) {
	t.Helper()
	fs := flag.NewFlagSet("riffle serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := Load(fs, args, func(k string) string { return env[k] })
	return c, fs, err
}

func file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadPrecedence(t *testing.T) {
	f := file(t, "r.yaml", "account-id: 000011112222\nshard-limit: 7\nfsync-interval: 5ms\nregion: eu-west-1\nfault-types: [InternalFailure, ProvisionedThroughputExceeded]\n")
	c, _, err := load(t, map[string]string{"RIFFLE_SHARD_LIMIT": "9", "RIFFLE_REGION": "eu-north-1"}, "--config", f, "--region", "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	if c.AccountID != "000011112222" || c.ShardLimit != 9 || c.FsyncInterval != 5*time.Millisecond || c.Region != "us-west-2" ||
		c.FaultTypes != "InternalFailure,ProvisionedThroughputExceeded" {
		t.Fatalf("loaded %+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	f := file(t, "r.yaml", "nope: 1\nshard-limit: lots\nfsync: {a: b}\n")
	_, _, err := load(t, map[string]string{"RIFFLE_ACCOUNT_ID": "12"}, "--config", f, "--fault-rate", "-1")
	for _, want := range []string{`unknown setting "nope"`, `shard-limit: "lots"`, `fsync: line 3`, `--account-id "12"`, `--fault-rate -1`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestPrintReadsBack(t *testing.T) {
	for _, format := range []string{"yaml", "json"} {
		c, fs, err := load(t, nil, "--region", "eu-west-3", "--fault-rate", "0.25", "--enforce-limits", "--print-config="+format)
		if err != nil || c.PrintConfig != format {
			t.Fatalf("%s: %v %q", format, err, c.PrintConfig)
		}
		var b bytes.Buffer
		if err := Print(&b, fs, format); err != nil {
			t.Fatal(err)
		}
		back, _, err := load(t, nil, "--config", file(t, "p."+format, b.String()))
		if err != nil {
			t.Fatalf("%s: reading back %s: %v", format, b.String(), err)
		}
		c.PrintConfig = ""
		back.ConfigFile = ""
		if back != c {
			t.Fatalf("%s: read back %+v, want %+v", format, back, c)
		}
	}
}

func TestInitFileValidation(t *testing.T) {
	_, err := ReadInitFile(file(t, "i.yaml", "streams:\n  - name: a\n    shard: 2\n"))
	if err == nil || !strings.Contains(err.Error(), "shard") {
		t.Fatalf("unknown field: %v", err)
	}
	f, err := ReadInitFile(file(t, "i.json", `{"streams": [{"name": "a", "shards": 2, "consumers": ["x"]}]}`))
	if err != nil || len(f.Streams) != 1 || f.Streams[0].Shards != 2 {
		t.Fatalf("JSON init file: %+v %v", f, err)
	}
}
