package main

import (
	"fmt"
	"io"
	"os"

	"github.com/riffle-streams/riffle/internal/cli"
)

// client runs the client CLI (internal/cli). The server-side subcommands are
// listed to it so that help and shell completion show them; run dispatches
// them before the CLI sees them.
func client(args []string, stdout, stderr io.Writer) int {
	return cli.Run(args, cli.IO{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr},
		cli.Passthrough{Name: "serve", Short: "Run the server", Run: func(a []string) int { return serve(a, stderr) }},
		cli.Passthrough{Name: "bench", Short: "Load a server with the AWS SDK and report throughput and latency",
			Run: func(a []string) int { return bench(a, stdout, stderr) }},
		cli.Passthrough{Name: "cert", Short: "Print the TLS certificate of --tls-listen for clients to trust",
			Run: func(a []string) int { return cert(a, stdout, stderr) }},
		cli.Passthrough{Name: "version", Short: "Print the version",
			Run: func(a []string) int { fmt.Fprintln(stdout, "riffle", version); return 0 }},
	)
}
