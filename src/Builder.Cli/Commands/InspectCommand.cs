using System.CommandLine;
using Builder.Core.Engine;
using System.Text.Json;
using Builder.Core.Oci;
using Builder.Core.State;

namespace Builder.Cli.Commands;

/// <summary><c>builder inspect NAME</c>: the image's config JSON, indented, as stored.</summary>
public static class InspectCommand
{
    private static readonly Argument<string> Name = new("NAME") { Description = "Image name" };

    public static Command Create()
    {
        var command = new Command("inspect", "Show the configuration of an image") { Name };
        command.SetAction(async (parse, ct) =>
        {
            var root = StateRoot.FromEnvironment();
            await using var worker = await Worker.OpenAsync(root, ct);
            var name = ImageReference.Parse(parse.GetRequiredValue(Name)).ToString();
            ResolvedImage image;
            try { image = await worker.ImageResolver.ResolveAsync(name, Platform.Host, ct); }
            catch (ImageNotFoundException) { throw new CliException($"no such image: {parse.GetValue(Name)}"); }

            // Re-indented by the document itself: no serializer (and no reflection) needed.
            using var config = JsonDocument.Parse(image.Config.ToJson());
            using var indented = new MemoryStream();
            using (var writer = new Utf8JsonWriter(indented, new JsonWriterOptions
            {
                Indented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }))
            {
                config.RootElement.WriteTo(writer);
            }
            Console.WriteLine(System.Text.Encoding.UTF8.GetString(indented.GetBuffer(), 0, (int)indented.Length));
            return 0;
        });
        return command;
    }
}
