using System.CommandLine;
using Builder.Core.Oci;
using Builder.Core.Registry;
using Builder.Core.State;

namespace Builder.Cli.Commands;

/// <summary>
/// <c>builder pull [--platform P] NAME</c>: resolves the name at its registry (always asking it,
/// as <c>--pull</c> does), downloads what is missing and names the image in the local store.
/// The platform's manifest is what gets the name, so the image can be pushed elsewhere as pulled.
/// </summary>
public static class PullCommand
{
    private static readonly Argument<string> Name = new("NAME") { Description = "Image to pull, e.g. busybox or 127.0.0.1:5000/app:1" };
    private static readonly Option<string?> PlatformOption = new("--platform") { Description = "Platform to pull (os/arch[/variant]); default: this machine's" };

    public static Command Create()
    {
        var command = new Command("pull", "Download an image from a registry") { Name, PlatformOption };
        command.SetAction(async (parse, ct) =>
        {
            var reference = RegistryCommandInput.ParseReference(parse.GetRequiredValue(Name));
            var platform = RegistryCommandInput.ParsePlatform(parse.GetValue(PlatformOption));
            var root = StateRoot.FromEnvironment();
            using var hold = await StateLock.AcquireAsync(root, () => Console.Error.WriteLine("waiting for another builder process to finish…"), ct);
            var content = new ContentStore(root);
            using var registries = new RegistryClientFactory(RegistryOptions.FromEnvironment());
            var resolver = new RegistryImageResolver(registries, content, new BlobLocations(root)) { AlwaysPull = true };
            try
            {
                var image = await resolver.ResolveAsync(reference.ToString(), platform, ct);
                await resolver.EnsureLayersAsync(image, ct);
                var target = new Descriptor(image.Manifest.MediaType, image.ManifestDigest, content.SizeOf(image.ManifestDigest) ?? 0);
                await new ImageStore(root).PutAsync(reference.ToString(), target, ct);
                Console.WriteLine($"Digest: {image.ManifestDigest}");
                Console.WriteLine(reference);
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
