namespace Builder.Cli.Commands;

/// <summary>The Dockerfile a build reads: its text, the name errors cite, and its path (for NAME.dockerignore).</summary>
public sealed record DockerfileInput(string Text, string Name, string? Path)
{
    /// <summary>-f FILE (relative to the working directory, as docker does), -f - for stdin, else CONTEXT/Dockerfile.</summary>
    public static async Task<DockerfileInput> ReadAsync(string? file, string contextDir, CancellationToken ct)
    {
        if (file == "-")
            return new DockerfileInput(await Console.In.ReadToEndAsync(ct), "Dockerfile", null);

        var path = file is null ? System.IO.Path.Combine(contextDir, "Dockerfile") : System.IO.Path.GetFullPath(file);
        if (!File.Exists(path))
            throw new CliException($"failed to read dockerfile: open {path}: no such file or directory");
        return new DockerfileInput(await File.ReadAllTextAsync(path, ct), System.IO.Path.GetFileName(path), path);
    }
}
