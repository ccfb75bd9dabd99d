using Microsoft.Data.Sqlite;

namespace Builder.Core.State;

/// <summary>
/// The directory that holds everything builder keeps between runs (<c>$BUILDER_ROOT</c>,
/// default <c>/var/lib/builder</c>): blobs, snapshots, the metadata database and scratch space.
/// Each part owns its own subfolder and its own tables; this type only names them.
/// </summary>
public sealed class StateRoot
{
    public const string DefaultPath = "/var/lib/builder";

    public StateRoot(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    public static StateRoot FromEnvironment() =>
        new(Environment.GetEnvironmentVariable("BUILDER_ROOT") is { Length: > 0 } root ? root : DefaultPath);

    public string Path { get; }

    /// <summary>Content store: blobs by digest (Oci/).</summary>
    public string ContentDir => Combine("content");

    /// <summary>Overlay snapshots (Snapshots/).</summary>
    public string SnapshotsDir => Combine("snapshots");

    /// <summary>Persistent RUN --mount=type=cache directories.</summary>
    public string CacheMountsDir => Combine("cachemounts");

    /// <summary>Runtime state of running sandboxes (Execution/); cleaned at start-up.</summary>
    public string ExecutorDir => Combine("executor");

    /// <summary>Scratch space for temp files that must be on the same filesystem as the stores (atomic renames).</summary>
    public string TempDir => Combine("tmp");

    public string DatabasePath => Combine("metadata.db");

    public string LockPath => Combine("lock");

    public void EnsureCreated()
    {
        foreach (var dir in new[] { Path, ContentDir, SnapshotsDir, CacheMountsDir, ExecutorDir, TempDir })
            Directory.CreateDirectory(dir);
    }

    /// <summary>
    /// A new connection to the metadata database. WAL journaling with full sync: readers never
    /// block the writer and a committed transaction survives kill -9 and power loss.
    /// Parts create their own tables with CREATE TABLE IF NOT EXISTS.
    /// </summary>
    public SqliteConnection OpenDatabase()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);
}
