using System.Diagnostics;
using Strix.Runtime;

namespace Strix.Tests.Runtime;

public class OpenMpSpinTests
{
    [Fact]
    public void The_default_applies_only_on_linux_when_the_user_set_neither_variable()
    {
        Assert.Equal("10000", OpenMpSpin.DefaultFor(null, null, linux: true));
        Assert.Equal("10000", OpenMpSpin.DefaultFor("", "", linux: true));
        Assert.Null(OpenMpSpin.DefaultFor("300000", null, linux: true)); // the user's spin count wins
        Assert.Null(OpenMpSpin.DefaultFor(null, "PASSIVE", linux: true)); // so does a wait policy (it implies a spin count)
        Assert.Null(OpenMpSpin.DefaultFor(null, null, linux: false)); // libgomp is libtorch's OpenMP on Linux only
    }

    [Fact]
    public void Loading_strix_sets_the_spin_count_natively_and_child_processes_inherit_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        // The module initializer ran when this test touched the Strix assembly.
        var effective = OpenMpSpin.Effective;
        if (OpenMpSpin.AppliedDefault) Assert.Equal("10000", effective);
        else Assert.True(effective is not null || Environment.GetEnvironmentVariable(OpenMpSpin.WaitPolicyVariable) is not null,
            "neither Strix's default nor a user setting is in effect");
        Assert.Equal(effective, Environment.GetEnvironmentVariable(OpenMpSpin.SpinCountVariable));
        var psi = new ProcessStartInfo("/bin/sh", new[] { "-c", "printf %s \"$GOMP_SPINCOUNT\"" }) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string child = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(effective ?? "", child);
    }
}
