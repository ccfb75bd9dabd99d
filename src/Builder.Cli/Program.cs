using System.CommandLine;
using Builder.Cli.Commands;

var root = new RootCommand("builder: build OCI images from Dockerfiles")
{
    BuildCommand.Create(),
    ImagesCommand.Create(),
    InspectCommand.Create(),
};
return await ErrorReport.InvokeAsync(root, args);
