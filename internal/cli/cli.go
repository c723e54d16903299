// Package cli is the command-line tool half of the riffle binary: the
// stream, consumer, put and tail commands that talk to a Kinesis endpoint
// (Riffle or AWS) through the AWS SDK for Go v2, so that the CLI itself is a
// client proving wire compatibility.
//
// Exit codes, which scripts may rely on:
//
//	0  success (tail also exits 0 when interrupted, or after --limit records)
//	1  runtime or API error: the server answered with an error, could not be
//	   reached, or input data was rejected (a line too long, bad JSON)
//	2  usage error: unknown command or flag, wrong number of arguments, a
//	   flag value that does not parse
//
// Every error is printed on one line to standard error, as
// "riffle: <context>: <AWS error type>: <message>".
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes of Run.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// IO is where a command reads and writes; Run takes it so that tests can run
// commands in-process.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment (RIFFLE_ENDPOINT, AWS_*); nil means
	// os.Getenv.
	Getenv func(string) string
}

// Passthrough is a subcommand implemented outside this package (riffle serve,
// bench, cert, version). The CLI lists it in help and completion; its flags
// are its own.
type Passthrough struct {
	Name, Short string
	Run         func(args []string) int
}

// usageError marks an error as the user's mistake in invoking a command
// (exit 2) rather than a failure to carry it out (exit 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// runError is an error returned from a command's work, as opposed to one
// cobra returns while parsing the command line.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// exitCode carries a passthrough's exit status through cobra.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Run executes the command line args (without the program name) and returns
// the process exit code. SIGINT and SIGTERM cancel the command's context.
func Run(args []string, stdio IO, extra ...Passthrough) int {
	if stdio.Getenv == nil {
		stdio.Getenv = os.Getenv
	}
	if stdio.Stdin == nil {
		stdio.Stdin = os.Stdin
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdio, extra)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	var re runError
	var ue usageError
	if errors.As(err, &re) && !errors.As(err, &ue) {
		fmt.Fprintf(stdio.Stderr, "riffle: %s\n", oneLine(describeError(re.err)))
		return ExitError
	}
	// Everything else comes from parsing the command line.
	hint := "riffle --help"
	if cmd != nil {
		hint = cmd.CommandPath() + " --help"
	}
	fmt.Fprintf(stdio.Stderr, "riffle: %s (see '%s')\n", oneLine(err.Error()), hint)
	return ExitUsage
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

const rootLong = `riffle is a Kinesis Data Streams compatible server and its command-line tool.

The client commands talk to --endpoint (default http://127.0.0.1:4567, or
$RIFFLE_ENDPOINT) through the AWS SDK for Go v2, so they work against AWS too.
Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the shared
credentials file (AWS_PROFILE, default "default"), else a dummy pair that
Riffle accepts. The region is --region, else AWS_REGION or AWS_DEFAULT_REGION,
else us-east-1.

Exit codes: 0 success; 1 runtime or API error; 2 usage error.
Errors are printed on one line: riffle: <context>: <AWS error type>: <message>.`

// newRoot builds the command tree.
func newRoot(stdio IO, extra []Passthrough) *cobra.Command {
	g := &globals{io: stdio}
	root := &cobra.Command{
		Use:           "riffle",
		Short:         "Kinesis Data Streams compatible server and CLI",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(stdio.Stderr)
			cmd.Help()
			return usagef("a command is required")
		},
	}
	root.SetIn(stdio.Stdin)
	root.SetOut(stdio.Stdout)
	root.SetErr(stdio.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = false
	g.register(root)

	root.AddGroup(&cobra.Group{ID: "client", Title: "Client commands:"}, &cobra.Group{ID: "server", Title: "Server commands:"})
	for _, c := range []*cobra.Command{newStreamCmd(g), newConsumerCmd(g), newPutCmd(g), newTailCmd(g)} {
		c.GroupID = "client"
		root.AddCommand(c)
	}
	for _, p := range extra {
		root.AddCommand(passthrough(p))
	}
	return root
}

// passthrough wraps an externally implemented subcommand. Its flags are
// parsed by the subcommand itself, so cobra must not touch them.
func passthrough(p Passthrough) *cobra.Command {
	return &cobra.Command{
		Use:                p.Name,
		Short:              p.Short,
		Long:               p.Short + "\n\nRun 'riffle " + p.Name + " -h' for its flags.",
		GroupID:            "server",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := p.Run(args); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
}

// group makes cmd a pure parent: run without a subcommand it prints its help
// and fails as a usage error; with an unknown one it says so (cobra would
// otherwise print help and exit 0, which hides typos in scripts).
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q for %q", args[0], c.CommandPath())
		}
		c.SetOut(c.ErrOrStderr())
		c.Help()
		return usagef("%s needs a subcommand", c.CommandPath())
	}
	return cmd
}

// action adapts a command's work function: errors it returns are runtime
// errors (exit 1) unless marked as usage errors.
func action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		var ue usageError
		if errors.As(err, &ue) {
			return ue
		}
		return runError{err}
	}
}

// Argument validators returning usage errors.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef("%s takes %d argument(s) (%s), got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}
