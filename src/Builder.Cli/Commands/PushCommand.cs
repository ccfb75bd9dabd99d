using System.CommandLine;
using Builder.Core.Engine;
using Builder.Core.Export;
using Builder.Core.Oci;
using Builder.Core.Registry;
using Builder.Core.State;

namespace Builder.Cli.Commands;

/// <summary><c>builder push NAME</c>: sends a named image from the local store to its registry; only missing blobs travel.</summary>
public static class PushCommand
{
    private static readonly Argument<string> Name = new("NAME") { Description = "Image to push, named as in the local store (see builder tag)" };

    public static Command Create()
    {
        var command = new Command("push", "Upload an image to a registry") { Name };
        command.SetAction(async (parse, ct) =>
        {
            var reference = RegistryCommandInput.ParseReference(parse.GetRequiredValue(Name));
            var root = StateRoot.FromEnvironment();
            using var hold = await StateLock.AcquireAsync(root, () => Console.Error.WriteLine("waiting for another builder process to finish…"), ct);
            var image = await new ImageStore(root).GetAsync(reference.ToString(), ct)
                ?? throw new CliException($"no such image: {parse.GetValue(Name)} (build it with -t or name it with builder tag)");

            using var registries = new RegistryClientFactory(RegistryOptions.FromEnvironment());
            var pusher = new RegistryPusher(registries, new ContentStore(root), new BlobLocations(root));
            var progress = new Progress<BlobPushed>(blob => Console.WriteLine($"{blob.Digest.Short}: {Describe(blob.Outcome)}"));
            try
            {
                await using var worker = await Worker.OpenAsync(root, ct);
                var target = await worker.LayerConversion.ToCompressedAsync(image.Target, ct);
                var result = await pusher.PushAsync(target, reference, progress, ct);
                Console.WriteLine($"{reference.Tag ?? reference.Digest?.ToString()}: digest: {result.Target.Digest} size: {result.Target.Size}");
            }
            catch (RegistryException e)
            {
                throw new CliException(e.Message);
            }
            return 0;
        });
        return command;
    }

    private static string Describe(BlobPushOutcome outcome) => outcome switch
    {
        BlobPushOutcome.AlreadyPresent => "Layer already exists",
        BlobPushOutcome.Mounted => "Mounted from another repository",
        _ => "Pushed",
    };
}
