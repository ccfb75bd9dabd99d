using System.CommandLine;
using Builder.Cli.Commands;

var root = new RootCommand("builder: builds container images from Dockerfiles");
root.Subcommands.Add(ParseCommand.Create());
return root.Parse(args).Invoke();
