using Strix.IO;
using Xunit;

namespace Strix.Tests.IO;

public class AtomicFileTests
{
    /// <summary>A disk that fills in the middle of a write: the error reaches the caller, the old file is intact, no temp file stays.</summary>
    [Fact]
    public void FailedWriteKeepsTheOldFileAndLeavesNoTemp()
    {
        var dir = TestPaths.NewTempDir();
        var target = Path.Combine(dir, "last.safetensors");
        File.WriteAllText(target, "previous");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, s =>
        {
            s.Write(new byte[100_000]);
            throw new IOException("No space left on device");
        }));
        Assert.Contains("No space left", e.Message);
        Assert.Equal("previous", File.ReadAllText(target));
        Assert.Equal(new[] { "last.safetensors" }, Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void SuccessfulWriteReplacesTheFileAndLeavesNoTemp()
    {
        var dir = TestPaths.NewTempDir();
        var target = Path.Combine(dir, "w.bin");
        File.WriteAllText(target, "old");
        AtomicFile.WriteAllBytes(target, new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(target));
        Assert.Single(Directory.GetFiles(dir));
    }

    /// <summary>Temp files of killed writers are removed by the next write of the same file; a live writer's and other files' are not.</summary>
    [Fact]
    public void NextWriteRemovesTempsOfDeadWritersOnly()
    {
        var dir = TestPaths.NewTempDir();
        string guid = Guid.NewGuid().ToString("N");
        var dead = Path.Combine(dir, $".last.safetensors.2147483000.{guid}.tmp");      // no such process
        var live = Path.Combine(dir, $".last.safetensors.{Environment.ProcessId}.{guid}.tmp"); // a write in progress in this process
        var other = Path.Combine(dir, $".best.safetensors.2147483000.{guid}.tmp");     // another target's: left for its own next write
        var odd = Path.Combine(dir, ".last.safetensors.user-notes.tmp");               // not ours
        foreach (var f in new[] { dead, live, other, odd }) File.WriteAllText(f, "x");

        AtomicFile.WriteAllText(Path.Combine(dir, "last.safetensors"), "new");

        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(odd));
        Assert.Equal("new", File.ReadAllText(Path.Combine(dir, "last.safetensors")));
    }
}
