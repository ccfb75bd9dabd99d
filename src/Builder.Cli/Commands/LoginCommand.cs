using System.CommandLine;
using System.Text;
using Builder.Core.Registry;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>builder login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]</c>: checks the
/// credentials with the registry, then stores them in Docker's config file (or the credential
/// helper it names), where docker, buildx and builder all find them.
/// </summary>
public static class LoginCommand
{
    private static readonly Argument<string?> Registry = new("REGISTRY") { Description = "Registry host[:port]; default: Docker Hub", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Option<string?> Username = new("--username", "-u") { Description = "User name" };
    private static readonly Option<string?> Password = new("--password", "-p") { Description = "Password (insecure: visible in the process list; prefer --password-stdin)" };
    private static readonly Option<bool> PasswordStdin = new("--password-stdin") { Description = "Read the password from standard input" };

    public static Command Create()
    {
        var command = new Command("login", "Log in to a registry") { Registry, Username, Password, PasswordStdin };
        command.SetAction(async (parse, ct) =>
        {
            var registry = RegistryCommandInput.ParseRegistry(parse.GetValue(Registry));
            var credentials = await ReadCredentialsAsync(parse.GetValue(Username), parse.GetValue(Password), parse.GetValue(PasswordStdin), ct);
            var options = RegistryOptions.FromEnvironment();
            using var registries = new RegistryClientFactory(options);
            var client = registries.For(registry);
            try
            {
                await client.LoginAsync(credentials, ct);
                await options.Credentials.StoreAsync(client.Endpoint.CredentialKey, credentials, ct);
            }
            catch (RegistryException e)
            {
                throw new CliException(e.Message);
            }
            Console.WriteLine("Login Succeeded");
            return 0;
        });
        return command;
    }

    private static async Task<RegistryCredentials> ReadCredentialsAsync(string? username, string? password, bool passwordStdin, CancellationToken ct)
    {
        if (password is not null && passwordStdin) throw new CliException("--password and --password-stdin are mutually exclusive");
        if (passwordStdin)
        {
            if (string.IsNullOrEmpty(username)) throw new CliException("--password-stdin needs a user name (-u)");
            // As docker does: the whole of stdin, without the trailing newline that echo adds.
            password = (await Console.In.ReadToEndAsync(ct)).TrimEnd('\n', '\r');
        }
        else if (password is not null)
        {
            Console.Error.WriteLine("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        }

        if (string.IsNullOrEmpty(username))
        {
            if (Console.IsInputRedirected) throw new CliException("no user name given (-u) and no terminal to ask on");
            Console.Write("Username: ");
            username = Console.ReadLine()?.Trim();
        }
        if (password is null)
        {
            if (Console.IsInputRedirected) throw new CliException("no password given (--password-stdin) and no terminal to ask on");
            Console.Write("Password: ");
            password = ReadHidden();
        }
        if (string.IsNullOrEmpty(username)) throw new CliException("a user name is required");
        if (string.IsNullOrEmpty(password)) throw new CliException("a password is required");
        return new RegistryCredentials(username, password);
    }

    /// <summary>Reads a line from the terminal without echoing it.</summary>
    private static string ReadHidden()
    {
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; }
            else if (key.KeyChar != '\0') text.Append(key.KeyChar);
        }
        Console.WriteLine();
        return text.ToString();
    }
}
