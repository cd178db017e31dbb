package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// addCompletions makes the shell completion (switchboard completion bash,
// zsh, fish or powershell) complete the first argument of every command
// that names an app, a command or an action with the names the server
// knows, asked with the configured server and key. The commands are found
// by their Use line (APP) and their group (commands NAME, actions NAME), so
// that commands added later complete too.
func addCompletions(root *cobra.Command, e *env, cc *clientConfig) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.ValidArgsFunction != nil {
			return
		}
		words := strings.Fields(c.Use)
		if len(words) < 2 {
			return
		}
		group := ""
		if c.Parent() != nil {
			group = c.Parent().Name()
		}
		var names func(cmd *cobra.Command) ([]string, error)
		switch {
		case words[1] == "APP":
			names = func(cmd *cobra.Command) ([]string, error) { return appNames(cmd, e, cc) }
		case words[1] == "NAME" && group == "commands":
			names = func(cmd *cobra.Command) ([]string, error) { return commandNames(cmd, e, cc) }
		case words[1] == "NAME" && group == "actions":
			names = func(cmd *cobra.Command) ([]string, error) { return actionNames(cmd, e, cc) }
		default:
			return
		}
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			list, err := names(cmd)
			if err != nil {
				cobra.CompDebugln("switchboard: "+err.Error(), false) // to BASH_COMP_DEBUG_FILE only
				return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, n := range list {
				if strings.HasPrefix(n, toComplete) {
					out = append(out, n)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	walk(root)
}

func appNames(cmd *cobra.Command, e *env, cc *clientConfig) ([]string, error) {
	apps, err := cc.client(e).Apps(cmd.Context())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(apps))
	for _, a := range apps {
		out = append(out, a.App+"\t"+a.Title)
	}
	return out, nil
}

func commandNames(cmd *cobra.Command, e *env, cc *clientConfig) ([]string, error) {
	cmds, err := cc.client(e).Commands(cmd.Context())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, c.Name+"\t"+c.App+" "+c.Version)
	}
	return out, nil
}

func actionNames(cmd *cobra.Command, e *env, cc *clientConfig) ([]string, error) {
	acts, err := cc.client(e).Actions(cmd.Context())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(acts))
	for _, a := range acts {
		out = append(out, a.Name+"\t"+a.Description)
	}
	return out, nil
}
