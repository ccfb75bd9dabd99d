using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Builder.Core.Graph;

/// <summary>
/// One operation of the build graph. Ops are pure data: what to do, never how. Their canonical
/// JSON (see <see cref="CanonicalEncoding"/>) is hashed into the vertex digest, so every field
/// here is part of the cache identity — add fields with care, and only ones that change the result.
/// Inputs are not fields: they are the vertex's <see cref="Vertex.Inputs"/>, referenced by index.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(ImageSourceOp), "image")]
[JsonDerivedType(typeof(LocalSourceOp), "local")]
[JsonDerivedType(typeof(HttpSourceOp), "http")]
[JsonDerivedType(typeof(ExecOp), "exec")]
[JsonDerivedType(typeof(FileOp), "file")]
[JsonDerivedType(typeof(MergeOp), "merge")]
public abstract record Op;

/// <summary>
/// A base image's filesystem. <paramref name="Reference"/> is a normalised reference
/// (<c>docker.io/library/busybox:latest</c>, <c>name@sha256:…</c>) or
/// <c>oci-layout:///abs/path:tag</c>; it is resolved to a manifest digest at solve time and the
/// resolved digest, not the tag, goes into the cache key.
/// </summary>
public sealed record ImageSourceOp(string Reference, string Platform) : Op;

/// <summary>
/// Files of a named directory the client provides: <c>context</c>, or a named build context.
/// <paramref name="Excludes"/> are .dockerignore patterns applied while reading it.
/// </summary>
public sealed record LocalSourceOp(string Name, ImmutableArray<string> Excludes) : Op;

/// <summary>
/// A file downloaded over HTTP(S) (ADD URL): the result holds one file, <paramref name="Filename"/>,
/// mode 0600 and mtime from the response's Last-Modified. Never extracted. With
/// <paramref name="Checksum"/> (<c>sha256:…</c>) the download is verified and the key needs no network.
/// </summary>
public sealed record HttpSourceOp(string Url, string? Checksum, string Filename) : Op;

/// <summary>A RUN step: a process run over the rootfs of input 0, whose changes become the result.</summary>
public sealed record ExecOp(ExecMeta Meta, ImmutableArray<ExecMountSpec> Mounts) : Op;

/// <param name="Args">argv; the shell form is already wrapped by the frontend (<c>/bin/sh -c …</c>).</param>
/// <param name="Env">KEY=VALUE, in order.</param>
/// <param name="User">as written: name, uid, name:group or uid:gid; resolved inside the rootfs.</param>
/// <param name="Network">"default", "none" or "host".</param>
/// <param name="Security">"sandbox" (default confinement) or "insecure" (all capabilities, no masked
/// paths; needs the <c>security.insecure</c> entitlement at solve time).</param>
public sealed record ExecMeta(
    ImmutableArray<string> Args,
    ImmutableArray<string> Env,
    string Cwd,
    string User,
    string Network,
    string Security = "sandbox");

/// <summary>
/// A mount of an exec. The mount at <c>/</c> is the rootfs and is the op's output.
/// <paramref name="Input"/> indexes the vertex inputs (-1: none, e.g. tmpfs, secret, or a cache without <c>from</c>).
/// <paramref name="Selector"/> is a path inside that input (for a cache: inside the cache directory) to mount instead of its root.
/// <paramref name="Type"/> is "bind" (default), "cache", "tmpfs", "secret" or "ssh"; the matching options record is set for the last four.
/// A writable bind (<paramref name="ReadOnly"/> false, not at <c>/</c>) gets a scratch layer whose writes are discarded.
/// None of these fields carries secret content or cache content: only names of where to get them at run time.
/// </summary>
public sealed record ExecMountSpec(
    string Target,
    int Input,
    string Selector = "",
    bool ReadOnly = false,
    string Type = "bind",
    CacheMountOptions? Cache = null,
    SecretMountOptions? Secret = null,
    SshMountOptions? Ssh = null,
    TmpfsMountOptions? Tmpfs = null);

/// <summary>
/// A persistent directory shared by builds under <paramref name="Id"/>. <paramref name="Sharing"/>: "shared"
/// (concurrent users see one directory), "private" (a concurrent user gets a directory of its own) or
/// "locked" (users take turns). A new directory is created with <paramref name="Uid"/>, <paramref name="Gid"/>
/// and <paramref name="Mode"/> (octal bits), seeded with the mount's input when it has one.
/// </summary>
public sealed record CacheMountOptions(string Id, string Sharing = "shared", int Uid = 0, int Gid = 0, int Mode = 0x1ED /* 0755 */);

/// <summary>
/// A build secret by <paramref name="Id"/>, provided by the client at solve time: a file at the mount's target
/// (mode/uid/gid as given) and/or the value of environment variable <paramref name="Env"/>; the mount's target is
/// empty when only the variable is wanted. A missing optional secret is skipped; a missing required one fails the step.
/// </summary>
public sealed record SecretMountOptions(string Id, bool Required = false, string? Env = null, int Uid = 0, int Gid = 0, int Mode = 0x100 /* 0400 */);

/// <summary>An SSH agent socket the client forwards under <paramref name="Id"/> ("default": its SSH_AUTH_SOCK).</summary>
public sealed record SshMountOptions(string Id = "default", bool Required = false, int Uid = 0, int Gid = 0, int Mode = 0x180 /* 0600 */);

/// <param name="SizeBytes">the tmpfs size limit; 0 = the kernel's default (half of RAM).</param>
public sealed record TmpfsMountOptions(long SizeBytes = 0);

/// <summary>
/// Filesystem actions applied in order to <paramref name="BaseInput"/> (-1 = an empty filesystem):
/// COPY, ADD, WORKDIR's mkdir and friends.
/// </summary>
public sealed record FileOp(int BaseInput, ImmutableArray<FileAction> Actions) : Op;

[JsonPolymorphic(TypeDiscriminatorPropertyName = "action")]
[JsonDerivedType(typeof(CopyAction), "copy")]
[JsonDerivedType(typeof(MkdirAction), "mkdir")]
[JsonDerivedType(typeof(MkfileAction), "mkfile")]
[JsonDerivedType(typeof(RmAction), "rm")]
[JsonDerivedType(typeof(SymlinkAction), "symlink")]
public abstract record FileAction;

/// <summary>Owner as written (<c>app</c>, <c>1000</c>, <c>app:staff</c>); names resolve in the destination's /etc files.</summary>
public sealed record Owner(string User, string? Group);

/// <param name="SourceInput">index of the vertex input the source path is read from.</param>
/// <param name="Source">path inside that input; may hold wildcards when <see cref="CopyOptions.AllowWildcard"/>.</param>
/// <param name="Destination">absolute path in the result; a trailing '/' means "into this directory".</param>
public sealed record CopyAction(int SourceInput, string Source, string Destination, CopyOptions Options) : FileAction;

/// <param name="Mode">octal permission bits to force (COPY --chmod), or null to keep the source's.</param>
/// <param name="DirContentsOnly">copy a directory's contents, not the directory itself (Docker's COPY rule).</param>
/// <param name="AttemptUnpack">ADD: extract a recognised local archive instead of copying it.</param>
/// <param name="Excludes">COPY --exclude patterns (.dockerignore syntax), matched below each source.</param>
/// <param name="IncludeParents">COPY --parents: keep each source's path (below a <c>/./</c> marker) under the destination.</param>
/// <param name="ExtractChown">ADD: the owner of extracted archive entries (an explicit --chown); null keeps the tar's owners, as BuildKit does.</param>
/// <param name="Timestamp">Unix seconds to stamp on copied files, or null to keep the source's mtime.</param>
public sealed record CopyOptions(
    Owner? Chown = null,
    int? Mode = null,
    bool FollowSymlinks = false,
    bool DirContentsOnly = true,
    bool AllowWildcard = true,
    bool AllowEmptyWildcard = true,
    bool CreateDestPath = true,
    bool AttemptUnpack = false,
    ImmutableArray<string> Excludes = default,
    long? Timestamp = null,
    bool IncludeParents = false,
    Owner? ExtractChown = null);

public sealed record MkdirAction(string Path, int Mode, bool MakeParents, Owner? Owner = null, long? Timestamp = null) : FileAction;

/// <param name="Data">file content (heredocs, generated files), UTF-8.</param>
public sealed record MkfileAction(string Path, int Mode, string Data, Owner? Owner = null, long? Timestamp = null) : FileAction;

public sealed record RmAction(string Path, bool AllowNotFound = false, bool AllowWildcard = false) : FileAction;

public sealed record SymlinkAction(string LinkPath, string Target, Owner? Owner = null, long? Timestamp = null) : FileAction;

/// <summary>Overlays its inputs' filesystems in order (COPY --link style results).</summary>
public sealed record MergeOp : Op;
