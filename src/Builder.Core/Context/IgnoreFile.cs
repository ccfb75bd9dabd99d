namespace Builder.Core.Context;

/// <summary>
/// Finds and reads the ignore file for a build, as BuildKit does:
/// <c>&lt;Dockerfile name&gt;.dockerignore</c> next to the Dockerfile (e.g. <c>app.Dockerfile.dockerignore</c>)
/// wins when it exists, even if empty; otherwise <c>.dockerignore</c> at the context root; otherwise none.
/// </summary>
public static class IgnoreFile
{
    public const string DefaultName = ".dockerignore";

    /// <summary>The ignore file that applies, or null when there is none.</summary>
    /// <param name="contextDir">The build context directory.</param>
    /// <param name="dockerfilePath">The Dockerfile's path (absolute, or relative to the current directory), or null when it does not come from disk.</param>
    public static string? Locate(string contextDir, string? dockerfilePath)
    {
        if (dockerfilePath is not null)
        {
            var besideDockerfile = dockerfilePath + DefaultName;
            if (File.Exists(besideDockerfile))
                return Path.GetFullPath(besideDockerfile);
        }

        var inContext = Path.Combine(contextDir, DefaultName);
        return File.Exists(inContext) ? Path.GetFullPath(inContext) : null;
    }

    /// <summary>The patterns that apply to this build; <see cref="IgnorePatterns.None"/> when there is no ignore file.</summary>
    /// <exception cref="IgnorePatternException">The file has an invalid pattern; the message names the file and line.</exception>
    public static IgnorePatterns Load(string contextDir, string? dockerfilePath)
    {
        var path = Locate(contextDir, dockerfilePath);
        return path is null ? IgnorePatterns.None : Read(path);
    }

    /// <summary>Reads one ignore file.</summary>
    /// <exception cref="IgnorePatternException">The file has an invalid pattern; the message names the file and line.</exception>
    public static IgnorePatterns Read(string path)
    {
        try
        {
            return IgnorePatterns.Parse(File.ReadAllText(path));
        }
        catch (IgnorePatternException invalid)
        {
            throw new IgnorePatternException(invalid.LineNumber, invalid.Line, invalid.Reason, path);
        }
    }
}
