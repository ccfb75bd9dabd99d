using System.CommandLine;
using Builder.Core.Registry;

namespace Builder.Cli.Commands;

/// <summary><c>builder logout [REGISTRY]</c>: removes stored credentials from Docker's config (or its credential helper).</summary>
public static class LogoutCommand
{
    private static readonly Argument<string?> Registry = new("REGISTRY") { Description = "Registry host[:port]; default: Docker Hub", Arity = ArgumentArity.ZeroOrOne };

    public static Command Create()
    {
        var command = new Command("logout", "Log out from a registry") { Registry };
        command.SetAction(async (parse, ct) =>
        {
            var registry = RegistryCommandInput.ParseRegistry(parse.GetValue(Registry));
            var options = RegistryOptions.FromEnvironment();
            var key = RegistryEndpoint.For(registry, options).CredentialKey;
            try
            {
                Console.WriteLine(await options.Credentials.EraseAsync(key, ct)
                    ? $"Removing login credentials for {registry}"
                    : $"Not logged in to {registry}");
            }
            catch (RegistryException e)
            {
                throw new CliException(e.Message);
            }
            return 0;
        });
        return command;
    }
}
