package main

import "context"

const helpHelp = `Usage: qbc help [COMMAND]

Print the list of commands, or COMMAND's help (the same as 'qbc COMMAND
--help').
`

const helpExample = `qbc help node`

func runHelp(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "help", helpHelp, helpExample)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("help", pos, 0, 1); err != nil {
		return err
	}
	if len(pos) == 0 {
		printUsage(e.stdout)
		return nil
	}
	c, ok := lookup(pos[0])
	if !ok {
		return usagef("help: unknown command %q; run 'qbc help' for the list", pos[0])
	}
	return c.run(ctx, e, []string{"--help"})
}
