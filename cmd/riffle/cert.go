package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/tlscert"
)

// cert prints the PEM of the data directory's TLS certificate, generating it
// if absent, so that clients of `riffle serve --tls-listen` can trust it:
//
//	riffle cert > ca.pem; aws --ca-bundle ca.pem --endpoint-url https://localhost:4443 ...
//
// It takes --data-dir (and RIFFLE_DATA_DIR) like riffle serve, and nothing
// else: a certificate given with --tls-cert is already a file the user has.
func cert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("riffle cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: riffle cert [--data-dir DIR]\n\n"+
			"Prints the self-signed certificate that riffle serve --tls-listen uses (generating it into DIR/tls if absent),\n"+
			"for clients to trust: riffle cert > ca.pem; aws --ca-bundle ca.pem ...\n\n")
		fs.PrintDefaults()
	}
	dataDir := config.Default().DataDir
	if v := os.Getenv("RIFFLE_DATA_DIR"); v != "" {
		dataDir = v
	}
	fs.StringVar(&dataDir, "data-dir", dataDir, "data directory of the server")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "riffle cert: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c, err := tlscert.LoadDataDir(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "riffle cert: %v\n", err)
		return 1
	}
	if c.Origin == tlscert.Generated {
		fmt.Fprintf(stderr, "riffle cert: generated %s (valid until %s)\n", c.Path, c.Leaf.NotAfter.UTC().Format("2006-01-02"))
	}
	if _, err := stdout.Write(c.PEM); err != nil {
		fmt.Fprintf(stderr, "riffle cert: %v\n", err)
		return 1
	}
	return 0
}
