using Builder.Core.Execution;

namespace Builder.Core.Tests.Execution;

public class UserResolverTests
{
    private static ExecUser Resolve(string user) => UserResolver.Resolve(user, TestRootfs.Passwd, TestRootfs.Group);

    [Fact]
    public void EmptyUserIsRootWithRootsHome()
    {
        Assert.Equal(new ExecUser(0, 0, [], "/root"), Resolve("") with { AdditionalGids = [] });
    }

    [Fact]
    public void NameGivesPasswdIdsHomeAndGroupMemberships()
    {
        var user = Resolve("app");
        Assert.Equal((1000u, 1000u, "/home/app"), (user.Uid, user.Gid, user.Home));
        Assert.Equal([50u], user.AdditionalGids);
    }

    [Fact]
    public void NumericUidFoundInPasswdUsesItsEntry()
    {
        Assert.Equal((1000u, 1000u, "/home/app"), Resolve("1000") is var u ? (u.Uid, u.Gid, u.Home) : default);
    }

    [Fact]
    public void NumericUidNotInPasswdRunsWithGidZeroAndRootHome()
    {
        Assert.Equal(new ExecUser(4242, 0, [], "/"), Resolve("4242") with { AdditionalGids = [] });
    }

    [Fact]
    public void ExplicitGroupByIdOrNameReplacesPrimaryAndSupplementaryGroups()
    {
        Assert.Equal(new ExecUser(1000, 50, [], "/home/app"), Resolve("1000:50") with { AdditionalGids = [] });
        Assert.Empty(Resolve("1000:50").AdditionalGids);
        Assert.Equal(50u, Resolve("app:staff").Gid);
        Assert.Equal(777u, Resolve("app:777").Gid);
    }

    [Fact]
    public void UnknownNamesAreErrorsLikeDockers()
    {
        var user = Assert.Throws<ExecutionException>(() => Resolve("nobody2"));
        Assert.Equal("unable to find user nobody2: no matching entries in passwd file", user.Message);
        var group = Assert.Throws<ExecutionException>(() => Resolve("app:wheel"));
        Assert.Equal("unable to find group wheel: no matching entries in group file", group.Message);
    }

    [Fact]
    public void WithoutPasswdFileOnlyNumericUsersWork()
    {
        Assert.Equal(new ExecUser(0, 0, [], "/"), UserResolver.Resolve("", null, null) with { AdditionalGids = [] });
        Assert.Throws<ExecutionException>(() => UserResolver.Resolve("app", null, null));
    }

    [Fact]
    public void MalformedLinesAndCommentsAreSkipped()
    {
        var user = UserResolver.Resolve("app", "# comment\nbroken\nx:x:notanumber:0::/:\napp:x:7:8::/h:/bin/sh\n", null);
        Assert.Equal(new ExecUser(7, 8, [], "/h"), user with { AdditionalGids = [] });
    }

    [Fact]
    public void ASymlinkedPasswdIsReadInsideTheRootfsNotOnTheHost()
    {
        using var rootfs = TestRootfs.Create();
        var hostFile = Path.Combine(Path.GetTempPath(), $"builder-host-passwd-{Guid.NewGuid():N}");
        File.WriteAllText(hostFile, "evil:x:4242:4242::/evil:/bin/sh\n");
        try
        {
            // Absolute and ../-laden targets both point at the host file when followed naively.
            File.Delete(rootfs.HostPath("etc/passwd"));
            File.CreateSymbolicLink(rootfs.HostPath("etc/passwd"), hostFile);
            Assert.Throws<ExecutionException>(() => UserResolver.ResolveInRootfs(rootfs.Path, "evil"));

            File.Delete(rootfs.HostPath("etc/passwd"));
            File.CreateSymbolicLink(rootfs.HostPath("etc/passwd"), "../../../../../../../.." + hostFile);
            Assert.Throws<ExecutionException>(() => UserResolver.ResolveInRootfs(rootfs.Path, "evil"));

            // The same file placed inside the rootfs is found through the same kind of link.
            rootfs.WriteFile(hostFile.TrimStart('/'), File.ReadAllText(hostFile));
            Assert.Equal(4242u, UserResolver.ResolveInRootfs(rootfs.Path, "evil").Uid);
        }
        finally
        {
            File.Delete(hostFile);
        }
    }
}
