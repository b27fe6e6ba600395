namespace Strix.Tests;

/// <summary>Locations tests need: the repository root and the shared real-data assets beside it.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding Strix.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>../shared/assets</c> next to the checkout (coco8, coco128, sample photos).</summary>
    public static string Assets { get; } = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "assets"));

    public static string Asset(params string[] parts) => Path.Combine(new[] { Assets }.Concat(parts).ToArray());

    /// <summary>Test fixtures committed under tests/Strix.Tests/Fixtures.</summary>
    public static string Fixture(params string[] parts) =>
        Path.Combine(new[] { RepoRoot, "tests", "Strix.Tests", "Fixtures" }.Concat(parts).ToArray());

    static readonly List<string> Created = new();

    static TestPaths() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        lock (Created) foreach (var d in Created) try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    };

    /// <summary>A fresh empty temporary folder, deleted when the test run ends.</summary>
    public static string NewTempDir(string prefix = "strix-test")
    {
        var d = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        lock (Created) Created.Add(d);
        return d;
    }

    static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Strix.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Strix.slnx) above " + AppContext.BaseDirectory);
    }
}
