using System.CommandLine;
using Builder.Core.Oci;
using Builder.Core.State;

namespace Builder.Cli.Commands;

/// <summary><c>builder tag SOURCE TARGET</c>: gives a stored image another name; nothing is copied.</summary>
public static class TagCommand
{
    private static readonly Argument<string> Source = new("SOURCE") { Description = "Existing image name" };
    private static readonly Argument<string> Target = new("TARGET") { Description = "New name, e.g. 127.0.0.1:5000/app:1" };

    public static Command Create()
    {
        var command = new Command("tag", "Create a name TARGET that refers to SOURCE") { Source, Target };
        command.SetAction(async (parse, ct) =>
        {
            var source = RegistryCommandInput.ParseReference(parse.GetRequiredValue(Source));
            var target = RegistryCommandInput.ParseReference(parse.GetRequiredValue(Target));
            if (target.Digest is not null) throw new CliException($"cannot tag with a digest: {parse.GetValue(Target)}");
            var root = StateRoot.FromEnvironment();
            using var hold = await StateLock.AcquireAsync(root, () => Console.Error.WriteLine("waiting for another builder process to finish…"), ct);
            var images = new ImageStore(root);
            var image = await images.GetAsync(source.ToString(), ct) ?? throw new CliException($"no such image: {parse.GetValue(Source)}");
            await images.PutAsync(target.ToString(), image.Target, ct);
            return 0;
        });
        return command;
    }
}
