using System.CommandLine;
using Builder.Cli;
using Builder.Cli.Commands;

var root = new RootCommand("builder: build OCI images from Dockerfiles")
{
    BuildCommand.Create(),
    CtlCommand.Create(),
    DaemonCommand.Create(),
    GcCommands.Du(ctl: false),
    GcCommands.Prune(ctl: false),
    ImagesCommand.Create(),
    InspectCommand.Create(),
    ParseCommand.Create(),
    PullCommand.Create(),
    PushCommand.Create(),
    TagCommand.Create(),
    LoginCommand.Create(),
    LogoutCommand.Create(),
};
return await ErrorReport.InvokeAsync(root, args);
