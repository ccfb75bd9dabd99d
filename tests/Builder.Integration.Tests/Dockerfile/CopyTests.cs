using System.Formats.Tar;
using Builder.Integration.Tests.Infrastructure;

namespace Builder.Integration.Tests.Dockerfile;

/// <summary>COPY: sources, wildcards, destination rules, ownership, modes, links, ignore files.</summary>
[Collection(BusyboxCollection.Name)]
public sealed class CopyTests(BusyboxImage busybox, SharedStateRoot state) : DockerfileSuite(busybox, state), IClassFixture<SharedStateRoot>
{
    [Fact]
    public async Task A_file_copied_to_a_path_without_slash_is_renamed()
    {
        Write("foo", "foo-contents");
        var image = await BuildAsync("FROM scratch\nCOPY foo /renamed\n");
        AssertFile(image, "renamed", "foo-contents");
        AssertAbsent(image, "foo");
    }

    [Fact]
    public async Task A_trailing_slash_copies_into_a_new_directory()
    {
        Write("foo", "x");
        var image = await BuildAsync("FROM scratch\nCOPY foo /sample/\n");
        AssertFile(image, "sample/foo", "x");
        Assert.Equal(TarEntryType.Directory, Entry(image, "sample").Type);
    }

    [Fact]
    public async Task Several_sources_go_into_the_directory()
    {
        Write("a", "A");
        Write("b", "B");
        var image = await BuildAsync("FROM scratch\nCOPY a b /dir/\n");
        AssertFile(image, "dir/a", "A");
        AssertFile(image, "dir/b", "B");
    }

    [Fact]
    public async Task Several_sources_need_a_directory_destination()
    {
        Write("a", "A");
        Write("b", "B");
        var result = await BuildFailsAsync("FROM scratch\n\nCOPY a b /dir\n");
        Assert.Contains("When using COPY with more than one source file, the destination must be a directory and end with a /", result.Stderr);
        Assert.Contains("Dockerfile:3", result.Stderr);
    }

    [Fact]
    public async Task Wildcards_follow_go_filepath_match_rules()
    {
        Write("foo.go", "foo");
        Write("bar.go", "bar");
        Write("baz.txt", "baz");
        Write("f1", "1");
        Write("g2", "2");
        Write("sub/dir1/dir2/deep", "deep");
        var image = await BuildAsync("""
            FROM scratch
            COPY *.go /gofiles/
            COPY f*.go /single.go
            COPY [a-f]? /range/
            COPY sub/*/dir2/deep /deep/
            """);
        AssertFile(image, "gofiles/foo.go", "foo");
        AssertFile(image, "gofiles/bar.go", "bar");
        AssertAbsent(image, "gofiles/baz.txt");
        AssertFile(image, "single.go", "foo");
        AssertFile(image, "range/f1", "1");
        AssertAbsent(image, "range/g2");
        AssertFile(image, "deep/deep", "deep");
    }

    [Fact]
    public async Task A_wildcard_that_matches_nothing_copies_nothing()
    {
        Write("keep", "k");
        var image = await BuildAsync("FROM scratch\nCOPY nothing* /empty/\nCOPY keep /keep\n");
        AssertFile(image, "keep", "k");
        AssertAbsent(image, "empty/nothing");
    }

    [Fact]
    public async Task A_missing_source_fails_with_its_line()
    {
        var result = await BuildFailsAsync("FROM busybox\nRUN true\nCOPY missing.txt /x\n");
        Assert.Contains("\"missing.txt\": not found", result.Stderr);
        Assert.Contains("Dockerfile:3", result.Stderr);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task A_directory_copies_its_contents_with_empty_directories()
    {
        Write("src/a.txt", "a");
        Write("src/nested/b.txt", "b");
        Directory.CreateDirectory(Context.Combine("src", "empty"));
        var image = await BuildAsync("FROM scratch\nCOPY src /dst\nCOPY src/ /dst2/\nCOPY src/. /dst3\n");
        foreach (var dst in new[] { "dst", "dst2", "dst3" })
        {
            AssertFile(image, $"{dst}/a.txt", "a");
            AssertFile(image, $"{dst}/nested/b.txt", "b");
            Assert.Equal(TarEntryType.Directory, Entry(image, $"{dst}/empty").Type);
            AssertAbsent(image, $"{dst}/src");
        }
    }

    [Fact]
    public async Task An_empty_destination_means_the_working_directory()
    {
        Write("testfile", "contents0");
        var image = await BuildAsync("FROM scratch\nWORKDIR /var/www\nENV empty=\"\"\nCOPY testfile $empty\n");
        AssertFile(image, "var/www/testfile", "contents0");
    }

    [Fact]
    public async Task Relative_destinations_resolve_against_workdir()
    {
        Write("foo", "hello");
        var image = await BuildAsync("""
            FROM scratch
            WORKDIR /test1
            WORKDIR test2
            COPY foo ./
            COPY foo ./bar/baz
            WORKDIR /test5/test6
            COPY foo ../
            WORKDIR /test4
            COPY . .
            """);
        AssertFile(image, "test1/test2/foo", "hello");
        AssertFile(image, "test1/test2/bar/baz", "hello");
        AssertFile(image, "test5/foo", "hello");
        AssertFile(image, "test4/foo", "hello");
    }

    [Fact]
    public async Task A_file_copied_onto_an_existing_directory_goes_inside_it()
    {
        Write("foo", "x");
        var image = await BuildAsync("FROM busybox\nCOPY foo /etc\n");
        AssertFile(image, "etc/foo", "x");
        Assert.Equal(TarEntryType.Directory, Entry(image, "etc").Type);
    }

    [Fact]
    public async Task Copying_twice_overrides_files()
    {
        Write("sub/dir1/foo", "foo-contents");
        Write("files/foo.go", "go");
        var image = await BuildAsync("FROM scratch\nCOPY sub sub\nCOPY sub sub\nCOPY files/foo.go dest/foo.go\nCOPY files dest\n");
        AssertFile(image, "sub/dir1/foo", "foo-contents");
        AssertFile(image, "dest/foo.go", "go");
    }

    [Fact]
    public async Task Chown_takes_numeric_ids()
    {
        Write("foo", "x");
        Write("dir/sub", "y");
        var image = await BuildAsync("FROM scratch\nCOPY --chown=1234:5678 foo /foo\nCOPY --chown=42 dir /dir\n");
        Assert.Equal((1234, 5678), (Entry(image, "foo").Uid, Entry(image, "foo").Gid));
        Assert.Equal((42, 42), (Entry(image, "dir/sub").Uid, Entry(image, "dir/sub").Gid));
    }

    [Fact]
    public async Task Chown_names_come_from_the_stage_passwd_and_group()
    {
        Write("foo", "x");
        var image = await BuildAsync("FROM busybox\nARG group=staff\nCOPY --chown=app foo /a\nCOPY --chown=app:${group} foo /b\nCOPY --chown=nobody:1 foo /c\n");
        Assert.Equal((1000, 1000), (Entry(image, "a").Uid, Entry(image, "a").Gid));
        Assert.Equal((1000, 50), (Entry(image, "b").Uid, Entry(image, "b").Gid));
        Assert.Equal((65534, 1), (Entry(image, "c").Uid, Entry(image, "c").Gid));
    }

    [Fact]
    public async Task Chown_with_an_unknown_name_falls_back_to_root_as_buildkit_does()
    {
        Write("foo", "x");
        var image = await BuildAsync("FROM busybox\nCOPY --chown=nosuchuser:nosuchgroup foo /foo\nCOPY --chown=nosuchuser foo /bar\n");
        Assert.Equal((0, 0), (Entry(image, "foo").Uid, Entry(image, "foo").Gid));
        Assert.Equal((0, 0), (Entry(image, "bar").Uid, Entry(image, "bar").Gid));
    }

    [Fact]
    public async Task Chown_also_owns_the_directories_it_creates()
    {
        Write("foo", "x");
        var image = await BuildAsync("FROM busybox\nCOPY --chown=app foo /made/for/app/\n");
        Assert.Equal(1000, Entry(image, "made").Uid);
        Assert.Equal(1000, Entry(image, "made/for/app/foo").Uid);
    }

    [Fact]
    public async Task Chmod_sets_modes_of_files_and_created_parents()
    {
        Write("foo", "x");
        Write("bar", "y");
        File.SetUnixFileMode(Context.Combine("bar"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var image = await BuildAsync("FROM scratch\nARG mode=755\nCOPY --chmod=0644 foo /foo\nCOPY --chmod=777 bar /baz\nCOPY --chmod=0 foo /zero\nCOPY --chmod=770 foo /parent/sub/foo\nCOPY --chmod=${mode} foo /arg\n");
        Assert.Equal(Convert.ToInt32("644", 8), Entry(image, "foo").Mode);
        Assert.Equal(Convert.ToInt32("777", 8), Entry(image, "baz").Mode);
        Assert.Equal(0, Entry(image, "zero").Mode);
        Assert.Equal(Convert.ToInt32("770", 8), Entry(image, "parent/sub").Mode);
        Assert.Equal(Convert.ToInt32("755", 8), Entry(image, "arg").Mode);
    }

    [Fact]
    public async Task An_invalid_chmod_is_refused()
    {
        Write("foo", "x");
        var result = await BuildFailsAsync("FROM scratch\nCOPY --chmod=64a foo /\n");
        Assert.Contains("invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777", result.Stderr);
        result = await BuildFailsAsync("FROM scratch\nCOPY --chmod=10000 foo /\n");
        Assert.Contains("invalid chmod parameter: '10000'", result.Stderr);
    }

    [Fact]
    public async Task Modes_and_mtimes_are_kept_and_context_files_belong_to_root()
    {
        Write("script.sh", "#!/bin/sh\n");
        Write("secret", "s");
        File.SetUnixFileMode(Context.Combine("script.sh"), (UnixFileMode)Convert.ToInt32("755", 8));
        File.SetUnixFileMode(Context.Combine("secret"), (UnixFileMode)Convert.ToInt32("600", 8));
        var mtime = new DateTime(2020, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Context.Combine("script.sh"), mtime);
        var image = await BuildAsync("FROM scratch\nCOPY script.sh secret /files/\n");
        Assert.Equal(Convert.ToInt32("755", 8), Entry(image, "files/script.sh").Mode);
        Assert.Equal(Convert.ToInt32("600", 8), Entry(image, "files/secret").Mode);
        Assert.Equal(0, Entry(image, "files/secret").Uid);
        Assert.Equal(new DateTimeOffset(mtime), Entry(image, "files/script.sh").ModificationTime);
    }

    [Fact]
    public async Task Symlinks_inside_a_directory_are_copied_as_links()
    {
        Write("dir/target.txt", "t");
        File.CreateSymbolicLink(Context.Combine("dir", "link"), "target.txt");
        File.CreateSymbolicLink(Context.Combine("dir", "abs"), "/etc/passwd");
        var image = await BuildAsync("FROM scratch\nCOPY dir /dir\n");
        Assert.Equal(TarEntryType.SymbolicLink, Entry(image, "dir/link").Type);
        Assert.Equal("target.txt", Entry(image, "dir/link").LinkTarget);
        Assert.Equal("/etc/passwd", Entry(image, "dir/abs").LinkTarget);
    }

    [Fact]
    public async Task A_symlink_named_as_the_source_is_followed_inside_the_context()
    {
        Write("bar", "bar-contents");
        File.CreateSymbolicLink(Context.Combine("foo"), "bar");
        Directory.CreateDirectory(Context.Combine("sub"));
        File.CreateSymbolicLink(Context.Combine("sub", "l0"), "../bar");
        var image = await BuildAsync("FROM scratch\nCOPY foo /\nCOPY sub/l* /links/\n");
        Assert.Equal(TarEntryType.RegularFile, Entry(image, "foo").Type);
        AssertFile(image, "foo", "bar-contents");
        AssertFile(image, "links/l0", "bar-contents");
    }

    [Fact]
    public async Task Hard_links_stay_linked()
    {
        Write("dir/one", "same inode");
        using (var ln = System.Diagnostics.Process.Start("ln", [Context.Combine("dir", "one"), Context.Combine("dir", "two")])!) await ln.WaitForExitAsync();
        var image = await BuildAsync("FROM scratch\nCOPY dir /dir\n");
        var layer = image.Layers[^1];
        var one = layer.Single(e => e.Path == "dir/one");
        var two = layer.Single(e => e.Path == "dir/two");
        Assert.Contains(TarEntryType.HardLink, new[] { one.Type, two.Type });
        AssertFile(image, "dir/one", "same inode");
    }

    [Fact]
    public async Task Names_with_spaces_and_non_ascii_letters_are_copied()
    {
        Write("with space.txt", "s");
        Write("test-äöü.txt", "u");
        Write("test-%C3%A4.txt", "p");
        var image = await BuildAsync("FROM scratch\nCOPY [\"with space.txt\", \"/dst dir/\"]\nCOPY test-äöü.txt test-%C3%A4.txt /\n");
        AssertFile(image, "dst dir/with space.txt", "s");
        AssertFile(image, "test-äöü.txt", "u");
        AssertFile(image, "test-%C3%A4.txt", "p");
    }

    [Fact]
    public async Task Dockerignore_hides_files_from_copy()
    {
        Write(".dockerignore", "*.log\nbuild\n!build/keep\n");
        Write("app.txt", "app");
        Write("debug.log", "log");
        Write("build/out.o", "o");
        Write("build/keep", "kept");
        var image = await BuildAsync("FROM scratch\nCOPY . /ctx/\n");
        AssertFile(image, "ctx/app.txt", "app");
        AssertAbsent(image, "ctx/debug.log");
        AssertAbsent(image, "ctx/build/out.o");
        AssertFile(image, "ctx/build/keep", "kept");
    }

    [Fact]
    public async Task An_ignored_file_named_as_a_source_is_not_found()
    {
        Write(".dockerignore", "secret.txt\n");
        Write("secret.txt", "s");
        var result = await BuildFailsAsync("FROM scratch\nCOPY secret.txt /\n");
        Assert.Contains("not found", result.Stderr);
    }

    [Fact]
    public async Task Exclude_leaves_out_matching_paths()
    {
        Write("dir/a.txt", "a");
        Write("dir/b.md", "b");
        Write("dir/sub/c.txt", "c");
        Write("dir/sub/d.png", "d");
        var image = await BuildAsync("FROM scratch\nCOPY --exclude=*.txt --exclude=sub/*.png dir /out/\n");
        AssertFile(image, "out/b.md", "b");
        AssertAbsent(image, "out/a.txt");
        AssertFile(image, "out/sub/c.txt", "c");
        AssertAbsent(image, "out/sub/d.png");
    }

    [Fact]
    public async Task Parents_keeps_the_source_path()
    {
        Write("foo1/foo2/bar", "testing");
        Write("foo1/foo2/baz", "testing2");
        Write("x/y/z/file", "z");
        var image = await BuildAsync("FROM scratch\nCOPY --parents foo1/foo2/bar /\nWORKDIR /test\nCOPY --parents foo1/foo2/ba* .\nCOPY --parents x/./y/z /marked/\n");
        AssertFile(image, "foo1/foo2/bar", "testing");
        AssertFile(image, "test/foo1/foo2/bar", "testing");
        AssertFile(image, "test/foo1/foo2/baz", "testing2");
        AssertFile(image, "marked/y/z/file", "z");
        AssertAbsent(image, "marked/x");
    }

    [Fact]
    public async Task Copy_link_gives_the_same_files()
    {
        Write("testfile", "contents0");
        var image = await BuildAsync("FROM busybox\nWORKDIR /var/www\nCOPY --link testfile .\n");
        AssertFile(image, "var/www/testfile", "contents0");
    }

    [Fact]
    public async Task Paths_climbing_out_of_the_context_are_clamped_to_it()
    {
        Write("inside.txt", "in");
        var image = await BuildAsync("FROM scratch\nCOPY ../../inside.txt /a\nCOPY /inside.txt /b\n");
        AssertFile(image, "a", "in");
        AssertFile(image, "b", "in");
    }

    [Fact]
    public async Task A_context_symlink_pointing_outside_is_resolved_inside_the_context()
    {
        Write("etc/passwd", "context passwd");
        File.CreateSymbolicLink(Context.Combine("escape"), "/etc/passwd");
        var image = await BuildAsync("FROM scratch\nCOPY escape /copied\n");
        AssertFile(image, "copied", "context passwd");
    }

    [Fact]
    public async Task Copy_does_not_write_through_a_symlink_out_of_the_stage_root()
    {
        Write("payload", "p");
        var outside = $"/var/tmp/builder-escape-{Guid.NewGuid():N}";
        var image = await BuildAsync($"FROM busybox\nRUN ln -s {outside} /out\nCOPY payload /out/\n");
        Assert.False(Directory.Exists(outside) || File.Exists(outside), "COPY wrote outside the stage root");
        AssertFile(image, $"{outside.TrimStart('/')}/payload", "p");
    }

    [Fact]
    public async Task Variables_expand_in_sources_and_destinations()
    {
        Write("bar", "bar-contents");
        var image = await BuildAsync("FROM scratch\nENV FOO=bar\nARG DEST=/dest\nCOPY $FOO ${DEST}/baz\n");
        AssertFile(image, "dest/baz", "bar-contents");
    }
}
