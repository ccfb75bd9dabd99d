using System.CommandLine;
using Builder.Core.Engine;
using Builder.Core.State;

namespace Builder.Cli.Commands;

/// <summary><c>builder images</c>: the names in the local image store.</summary>
public static class ImagesCommand
{
    public static Command Create()
    {
        var command = new Command("images", "List images in the local store");
        command.SetAction(async (_, ct) =>
        {
            var root = StateRoot.FromEnvironment();
            await using var worker = await Worker.OpenAsync(root, ct);
            var images = await worker.Images.ListAsync(ct);
            Console.WriteLine($"{"NAME",-50} {"DIGEST",-19} {"UPDATED",-20}");
            foreach (var image in images.OrderBy(i => i.Name, StringComparer.Ordinal))
                Console.WriteLine($"{image.Name,-50} {image.Target.Digest.Algorithm}:{image.Target.Digest.Short,-12} {image.Updated.UtcDateTime:yyyy-MM-dd HH:mm:ss}");
            return 0;
        });
        return command;
    }
}
